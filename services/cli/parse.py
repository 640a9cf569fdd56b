"""``intake parse``: what each upload says, as the parser read it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.report import Cell, ParsedReport, cell_state
from contracts.template import SECTIONS, TEMPLATES
from services.cli.app import app, err, out_console, read_file
from services.parser import UnreadableUpload, parse


@app.command("parse")
def parse_cmd(
    files: Annotated[list[Path], typer.Argument(help="Uploads: .txt, .md, .html, .docx, .pdf.")],
    as_json: Annotated[bool, typer.Option("--json", help="One ParsedReport JSON object a line.")] = False,
) -> None:
    """Read each upload and print what it says: metadata, sections, tables 二/三/四.

    Exit status: 0; 1 when an upload cannot be read as a report (DOC-UNREADABLE);
    2 when a file cannot be opened.
    """
    status = 0
    out = out_console()
    for path in files:
        data = read_file(path)
        if data is None:
            status = 2
            continue
        try:
            report = parse(data, path.name)
        except UnreadableUpload as exc:
            status = max(status, 1)
            if as_json:
                error = {"rule": "DOC-UNREADABLE", "reason": exc.reason.value, "detail": exc.detail}
                sys.stdout.write(json.dumps({"source": str(path), "error": error}, ensure_ascii=False) + "\n")
            else:
                err.print(
                    f"intake: {path}: cannot be read as a report ({exc.reason.value}): {exc.detail}",
                    markup=False,
                    highlight=False,
                )
            continue
        if as_json:
            sys.stdout.write(report.model_dump_json() + "\n")
        else:
            summary(out, str(path), report)
    raise typer.Exit(status)


def _v(cell: Cell | None) -> str:
    if cell is None:
        return "·"
    state, raw = cell_state(cell), cell["raw"]
    if state == "missing":
        return "?"
    if state == "blank":
        return "(blank)" if not raw else f"({raw})"
    if state == "unread":
        return f"!{raw}"
    text = str(cell["value"])
    return text if raw == text else f"{text} [{raw}]"


def summary(out: Console, source: str, r: ParsedReport) -> None:
    """A readable account of one parsed report."""
    out.rule(f"[bold]{source}[/]")
    meta = Table.grid(padding=(0, 2))
    meta.add_row("format", f"{r.format}" + (f" ({r.encoding})" if r.encoding else ""))
    meta.add_row("title", r.title or "—")
    meta.add_row("office", r.office or "—")
    found = {k: v for k, v in r.office_sources.model_dump().items() if v}
    if found:
        meta.add_row("", ", ".join(f"{k}: {v}" for k, v in found.items()))
    meta.add_row("year", str(r.year or "—"))
    meta.add_row(
        "template",
        f"{r.template or '—'} (table 二: {r.table_templates.t2 or '—'}, table 三: {r.table_templates.t3 or '—'})",
    )
    meta.add_row("signed on", str(r.signed_on or "—"))
    out.print(meta)
    sec = Table(title="sections", show_edge=False)
    sec.add_column("id")
    sec.add_column("heading as written")
    sec.add_column("line", justify="right")
    for s in SECTIONS:
        got = r.sections.get(s.id)
        sec.add_row(
            s.id,
            got.heading if got else f"[red]missing[/] ({s.number}、{s.heading})",
            str(got.line) if got and got.line else "",
        )
    out.print(sec)
    spec = TEMPLATES[r.template or "2019"]
    for table_id, cells in (("t2", r.tables.t2), ("t3", r.tables.t3), ("t4", r.tables.t4)):
        tspec = spec.table(table_id)
        if cells is None:
            out.print(f"[red]table {table_id} ({tspec.label}) not found[/]")
            continue
        reads = getattr(r.rows, table_id)
        t = Table(title=f"{table_id} {tspec.label}", show_edge=False)
        t.add_column("row", no_wrap=True)
        wide = table_id != "t2"
        cols = list(tspec.columns) if wide else []
        for c in cols:
            t.add_column(tspec.columns[c].label, justify="right")
        if not wide:
            t.add_column("cells")
        t.add_column("label as written")
        notes = []
        for row_id, row in cells.items():
            read = reads.get(row_id)
            note = ""
            if read is not None:
                note = read["label"] + (" [yellow](uncertain)[/]" if read["uncertain"] else "")
                if read["uncertain"] or read["note"]:
                    kept = " ".join(c["raw"] or "" for c in read["unplaced"])
                    notes.append(
                        f"[yellow]{table_id}.{row_id}[/] (line {read['line']}): {read['note']}"
                        + (f"; values kept: {kept}" if kept else "")
                    )
            values = (
                [_v(row.get(c)) for c in cols]
                if wide
                else [
                    "  ".join(
                        f"{(tspec.columns[c].label if c in tspec.columns else c)}={_v(v)}" for c, v in row.items()
                    )
                ]
            )
            t.add_row(row_id, *values, note)
        out.print(t)
        for note in notes:
            out.print(note, soft_wrap=True)
    for extra in r.extra_rows:
        out.print(
            f"[yellow]extra row in {extra.table}[/] line {extra.line}: {extra.label} "
            + " ".join(c["raw"] or "" for c in extra.cells)
        )
