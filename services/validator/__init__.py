"""The validator: judges a parsed report by the rule catalogue (``core.validate``)."""

from services.validator.core import unreadable, validate
from services.validator.model import Context
from services.validator.rules import RULES

__all__ = ["RULES", "Context", "unreadable", "validate"]
