"""The ``intake`` command: ``parse``, ``check``, ``rules`` (and, later, the pipeline commands)."""

from services.cli import check, parse, pipeline  # noqa: F401  (each registers its commands)
from services.cli.app import app


def main() -> None:
    app()
