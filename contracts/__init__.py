"""Contracts shared by every service: the template data and the event payload models."""

from contracts.report import (
    Cell,
    ExtraRow,
    GridRef,
    ParsedReport,
    RowRead,
    SectionRead,
    Sources,
    Tables,
    YearSources,
)
from contracts.template import SECTIONS, TEMPLATES, Kind, template_for_year

__all__ = [
    "SECTIONS",
    "TEMPLATES",
    "Cell",
    "ExtraRow",
    "GridRef",
    "Kind",
    "ParsedReport",
    "RowRead",
    "SectionRead",
    "Sources",
    "Tables",
    "YearSources",
    "template_for_year",
]
