"""The ``intake`` command (../shared/spec/interfaces.md): errors in one plain sentence, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    help="Intake for 政府信息公开工作年度报告: parse, validate and answer annual report uploads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def _root() -> None:
    """Intake for 政府信息公开工作年度报告 (government information disclosure annual reports)."""


def out_console() -> Console:
    return Console(highlight=False, width=max(120, Console().width))


def read_file(path: Path) -> bytes | None:
    """The file's bytes, or None after one plain sentence on stderr."""
    try:
        return path.read_bytes()
    except OSError as exc:
        err.print(f"intake: cannot open {path}: {exc.strerror or exc}", markup=False, highlight=False)
        return None
