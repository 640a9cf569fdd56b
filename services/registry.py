"""The office registry (../shared/spec/interfaces.md): who may submit, and where notices go."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from contracts.verdict import Office


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True)

    offices: tuple[Office, ...] = ()

    def get(self, office_id: str) -> Office | None:
        return next((o for o in self.offices if o.id == office_id), None)


def load(path: str | Path | None) -> Registry:
    """The registry from its YAML file; an empty one when no file is configured."""
    if path is None:
        return Registry()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return Registry.model_validate({"offices": data.get("offices", [])})
