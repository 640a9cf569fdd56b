"""Generated reports of both templates, rendered into every shape, parse back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.parser import parse
from tests.generator import SHAPES, Truth, truths
from tests.roundtrip import assert_same


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_round_trips_exactly(shape: str) -> None:
    """Half the examples come without a file name: the format is told from the bytes."""
    filename, render = SHAPES[shape]

    @given(truths(), st.booleans())
    def check(truth: Truth, named: bool) -> None:
        assert_same(truth, parse(render(truth), filename if named else None))

    check()
