"""``intake check`` and ``intake rules``: the validator offline, no broker."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from contracts.notice import SubmissionRef
from contracts.report import ParsedReport
from contracts.verdict import Office, Verdict
from services.cli.app import app, err, out_console, read_file
from services.notifier.notice import render_notice
from services.parser import UnreadableUpload, parse
from services.validator import RULES, Context, unreadable, validate


@app.command("check")
def check_cmd(
    files: Annotated[list[Path], typer.Argument(help="Uploads: .txt, .md, .html, .docx, .pdf.")],
    as_json: Annotated[bool, typer.Option("--json", help='One {"source", "report", "verdict"} object a line.')] = False,
    office: Annotated[str | None, typer.Option(help="The office the submitter declared (DOC-OFFICE-MISMATCH).")] = None,
    year: Annotated[int | None, typer.Option(help="The year the submitter declared (DOC-YEAR-MISMATCH).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the findings table: zh or en.")] = "zh",
    notice: Annotated[bool, typer.Option("--notice", help="Print the notice the office would receive.")] = False,
) -> None:
    """Parse and validate each upload, offline.

    Exit status: 0 all accepted; 1 any rejected; 2 usage error or a file that cannot be opened.
    """
    if lang not in ("zh", "en"):
        err.print("intake: --lang must be zh or en", markup=False)
        raise typer.Exit(2)
    ctx = Context(office=Office(id="declared", name=office) if office else None, year=year, now=dt.date.today())
    out = out_console()
    status = 0
    for path in files:
        data = read_file(path)
        if data is None:
            status = 2
            continue
        report, verdict = judge(data, path.name, ctx)
        if verdict.status == "rejected" and status == 0:
            status = 1
        if as_json:
            line = {
                "source": str(path),
                "report": report.model_dump(mode="json") if report else None,
                "verdict": verdict.model_dump(mode="json"),
            }
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            findings_table(out, str(path), verdict, lang)  # type: ignore[arg-type]
        if notice:
            ref = SubmissionRef(submission_id=f"offline:{path.name}", file_name=path.name, declared_year=year)
            rendered = render_notice(verdict, report, ctx.office, ref, dt.date.today())
            out.print(f"\n[bold]主题 Subject:[/] {rendered.subject}\n", highlight=False)
            out.print(rendered.text, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(status)


def judge(data: bytes, name: str, ctx: Context) -> tuple[ParsedReport | None, Verdict]:
    """Parse and validate one upload, offline; an unreadable one gets its DOC-UNREADABLE verdict."""
    try:
        report = parse(data, name)
    except UnreadableUpload as exc:
        return None, unreadable(exc.reason, exc.detail)
    return report, validate(report, ctx)


def findings_table(out: Console, source: str, verdict: Verdict, lang: Literal["zh", "en"]) -> None:
    colour = "green" if verdict.status == "accepted" else "red"
    out.rule(
        f"[bold]{source}[/]: [{colour}]{verdict.status}[/] "
        f"({len(verdict.errors)} errors, {len(verdict.warnings)} warnings)"
    )
    if not verdict.findings:
        return
    t = Table(show_edge=False, show_lines=False)
    t.add_column("", no_wrap=True)
    t.add_column("rule", no_wrap=True)
    t.add_column("where" if lang == "en" else "位置", overflow="fold")
    t.add_column("finding" if lang == "en" else "问题", overflow="fold")
    for f in verdict.findings:
        loc = f.location
        where = " / ".join(str(x) for x in (loc.table, loc.row, loc.column) if x) or (loc.section or "")
        if loc.line:
            where += f" @{loc.line}"
        sev = "[red]E[/]" if f.severity == "error" else "[yellow]W[/]"
        t.add_row(sev, f.rule, Text(where), Text(f.message_en if lang == "en" else f.message_zh))
    out.print(t)


@app.command("rules")
def rules_cmd(as_json: Annotated[bool, typer.Option("--json", help="The catalogue as a JSON array.")] = False) -> None:
    """The rule catalogue: id, severity, what each rule checks (Chinese and English)."""
    if as_json:
        rows = [
            {
                "id": r.id,
                "severity": r.severity,
                "summary_zh": r.summary_zh,
                "summary_en": r.summary_en,
                "message_zh": r.message_zh,
                "message_en": r.message_en,
            }
            for r in RULES
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    t = Table(show_edge=False)
    t.add_column("id", no_wrap=True)
    t.add_column("severity")
    t.add_column("规则")
    t.add_column("rule")
    for r in RULES:
        t.add_row(r.id, r.severity, Text(r.summary_zh), Text(r.summary_en))
    out_console().print(t)
