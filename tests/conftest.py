"""Shared fixtures: the seed uploads with their truth, and hypothesis profiles.

CI (``CI=true``) runs the generated round trips with 200 examples per shape; a developer's run
uses fewer (``HYPOTHESIS_PROFILE=ci`` to run the full count locally).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from hypothesis import HealthCheck, settings

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted((FIXTURES / "seeds").glob("*.txt"))

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def truth_of(seed: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((FIXTURES / "truth" / (seed.stem + ".json")).read_text(encoding="utf-8"))


def free_port() -> int:
    """A loopback port nothing listens on (for the servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
