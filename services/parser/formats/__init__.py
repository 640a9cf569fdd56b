"""Readers, one per upload format, each producing a ``Document``."""
