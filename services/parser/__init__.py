"""The parser: reads an upload into a faithful ``ParsedReport`` (see ``core.parse``)."""

from services.parser.core import parse
from services.parser.errors import ParserError, Reason, UnreadableUpload
from services.parser.limits import Limits

__all__ = ["Limits", "ParserError", "Reason", "UnreadableUpload", "parse"]
