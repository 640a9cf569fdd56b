"""Errors of the parser: one shallow tree, each raised for one reason."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why an upload cannot be read as a report (carried into ``DOC-UNREADABLE``)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported"
    TOO_COMPLEX = "too_complex"
    TIMEOUT = "timeout"
    NOT_A_REPORT = "not_a_report"
    CONVERTER_MISSING = "converter_missing"  # legacy Word, and no LibreOffice to convert it
    CONVERTER_FAILED = "converter_failed"  # legacy Word that LibreOffice could not convert in time
    OCR_MISSING = "ocr_missing"  # a scan, and no OCR installed to read it


class ParserError(Exception):
    """Raised when the parser itself fails; base of every parser error."""


class UnreadableUpload(ParserError):
    """Raised when an upload cannot be read as an annual report at all."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
