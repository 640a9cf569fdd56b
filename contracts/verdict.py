"""What the validator concludes about a report: a verdict with findings, each pointing at its cell."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.report import GridRef
from contracts.template import SectionId

Severity = Literal["error", "warning"]
Status = Literal["accepted", "rejected"]
Number = int | Decimal


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(_Frozen):
    """Where a finding stands, precisely enough for an office to find the cell."""

    section: SectionId | None = None
    table: Literal["t2", "t3", "t4"] | None = None
    row: str | None = None
    column: str | None = None
    table_label: str | None = None  # 表三 收到和处理政府信息公开申请情况
    row_label: str | None = None  # the template's Chinese label
    column_label: str | None = None
    line: int | None = None
    cell: GridRef | None = None


class Term(_Frozen):
    """One cell taking part in a sum: which, its label and the value read."""

    side: Literal["left", "right"]
    row: str
    column: str
    label: str
    value: Number
    line: int | None = None


class Finding(_Frozen):
    rule: str
    severity: Severity
    location: Location = Location()
    expected: Number | str | None = None
    actual: Number | str | None = None
    terms: tuple[Term, ...] = ()  # arithmetic rules: the cells on each side
    message_zh: str
    message_en: str


class Verdict(_Frozen):
    schema_version: Literal[1] = 1
    status: Status
    findings: tuple[Finding, ...] = ()
    checked_at: dt.datetime | None = None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")


class Office(_Frozen):
    """An entry of the office registry (../shared/spec/interfaces.md)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    email: str | None = None
    webhook: dict[str, str] | None = None


class PreviousFigures(_Frozen):
    """What the cross-year rules need from the office's accepted report of the year before."""

    year: int
    carried_forward: dict[str, int] = Field(default_factory=dict)  # table 三, by column
    in_force: dict[str, int] = Field(default_factory=dict)  # table 二 (2021), rules / normative_docs
