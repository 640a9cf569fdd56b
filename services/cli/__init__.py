"""The ``intake`` command: ``parse``, ``check``, ``rules`` (and, later, the pipeline commands)."""

import os
import sys

from services.cli import check, dead, notices, parse, pipeline  # noqa: F401  (each registers its commands)
from services.cli.app import app


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `intake demo | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
