"""The office registry (../shared/spec/interfaces.md): who may submit, and where notices go."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from contracts.verdict import Office


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True)

    offices: tuple[Office, ...] = ()

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Registry:
        seen: set[str] = set()
        for office in self.offices:
            if office.id in seen:
                raise ValueError(f"office id {office.id!r} is registered twice")
            seen.add(office.id)
        return self

    @cached_property
    def _by_id(self) -> dict[str, Office]:
        return {o.id: o for o in self.offices}  # a national registry has tens of thousands of offices

    def get(self, office_id: str) -> Office | None:
        return self._by_id.get(office_id)


def load(path: str | Path | None) -> Registry:
    """The registry from its YAML file; an empty one when no file is configured."""
    if path is None:
        return Registry()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return Registry.model_validate({"offices": data.get("offices", [])})


class Live:
    """The registry a running service uses: loaded at start and again on ``reload`` (SIGHUP).

    A file that cannot be read on reload leaves the registry as it was (and says why), so a
    typo in the YAML never takes the notices' recipients away.
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self.current = load(path)

    def __call__(self) -> Registry:
        return self.current

    def reload(self) -> str | None:
        """Reload from the file; the error, if it could not be read."""
        try:
            self.current = load(self.path)
        except Exception as exc:  # YAML or validation errors alike: keep the old registry
            return f"office registry not reloaded: {exc}"
        return None
