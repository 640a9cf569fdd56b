from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.registry import Live, Registry, load

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "offices.yaml"


def test_offices_are_found_by_id() -> None:
    registry = load(SAMPLES)
    assert registry.get("xigong") is not None and registry.get("xigong").name == "西工区西工街道办事处"  # type: ignore[union-attr]
    assert registry.get("nobody") is None


def test_an_office_id_registered_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="registered twice"):
        Registry.model_validate({"offices": [{"id": "a", "name": "甲"}, {"id": "a", "name": "乙"}]})
    path = tmp_path / "offices.yaml"
    path.write_text(SAMPLES.read_text(encoding="utf-8"), encoding="utf-8")
    live = Live(path)
    path.write_text("offices:\n  - {id: a, name: 甲}\n  - {id: a, name: 乙}\n", encoding="utf-8")
    assert "registered twice" in (live.reload() or "")
    assert live().get("xigong") is not None  # the registry read before stays
