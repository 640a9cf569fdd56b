"""``intake notices preview`` (what an office would receive) and ``intake notices status`` (what it got)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import redis.asyncio as aioredis
import typer
from rich.table import Table
from rich.text import Text

from contracts.notice import SubmissionRef, WebhookBody
from services.cli.app import app, err, out_console, read_file
from services.cli.check import judge
from services.notifier.channels import EmailChannel
from services.notifier.notice import render_notice
from services.notifier.records import Records
from services.registry import load
from services.streams import Settings
from services.validator import Context

notices = typer.Typer(help="The notices offices receive: preview one, or see where one stands.", no_args_is_help=True)
app.add_typer(notices, name="notices")


@notices.command("preview")
def preview_cmd(
    file: Annotated[Path, typer.Argument(help="The upload.")],
    office: Annotated[str | None, typer.Option(help="The submitting office's id in the registry.")] = None,
    year: Annotated[int | None, typer.Option(help="The declared report year.")] = None,
    show: Annotated[
        Literal["text", "html", "mime", "webhook"],
        typer.Option("--show", help="text (default), html, the mime email, or the webhook body."),
    ] = "text",
) -> None:
    """What the office would receive for this upload, on which channels: nothing is sent.

    The office comes from INTAKE_OFFICES_FILE by id. Exit status: 0 no notice (accepted),
    1 a rejection notice, 2 usage error.
    """
    settings = Settings()
    registry = load(settings.offices_file)
    entry = registry.get(office) if office else None
    if office and entry is None:
        err.print(f"intake: office id {office!r} is not in the registry ({settings.offices_file})", markup=False)
        raise typer.Exit(2)
    data = read_file(file)
    if data is None:
        raise typer.Exit(2)
    now = dt.datetime.now(dt.UTC)
    report, verdict = judge(data, file.name, Context(office=entry, year=year, now=now.date()))
    ref = SubmissionRef(submission_id="preview", office_id=office, file_name=file.name, declared_year=year)
    notice = render_notice(verdict, report, entry, ref, now.date())
    out = out_console()
    if verdict.status == "accepted" and not settings.notice_receipts:
        out.print(f"{file.name}: accepted; no notice is sent (acceptance receipts are off).")
        raise typer.Exit(0)
    if entry is None:
        out.print("[yellow]no --office: the notice below goes nowhere (recipients come only from the registry)[/]")
    else:
        if entry.email:
            how = f"SMTP via {settings.smtp_host}" if settings.smtp_host else "not sent: INTAKE_SMTP_HOST is unset"
            out.print(f"email   → {entry.email} ({how})", markup=False)
        if entry.webhook:
            out.print(f"webhook → POST {entry.webhook.get('url')} (signed)", markup=False)
        if settings.outbox_dir:
            out.print(f"outbox  → {settings.outbox_dir}/{entry.id}/", markup=False)
    if show == "mime" and entry is not None and entry.email:
        message = EmailChannel("preview", 25, settings.smtp_from).message("ntc_preview", notice, entry, now)
        sys.stdout.write(message.decode("ascii").replace("\r\n", "\n"))
    elif show == "webhook":
        body = WebhookBody(
            notice_id="ntc_preview", submission_id="preview", office_id=office or "", verdict=verdict, notice=notice
        )
        sys.stdout.write(body.model_dump_json(indent=1) + "\n")
    else:
        out.print(f"\n[bold]主题 Subject:[/] {notice.subject}\n", highlight=False)
        out.print(notice.html if show == "html" else notice.text, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if verdict.status == "rejected" else 0)


@notices.command("status")
def status_cmd(
    submission_id: Annotated[str, typer.Argument(help="The submission's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="The notice records as JSON.")] = False,
) -> None:
    """The notice records of one submission in Redis: channel, state, attempts, destination, error.

    Exit status: 0 records found; 1 none (no notice was due, or it is not known here).
    """
    settings = Settings()

    async def fetch() -> list[dict[str, str]]:
        client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            return await Records(client, settings.key_prefix, settings.notice_record_ttl_s).of_submission(submission_id)
        finally:
            await client.aclose()

    records = asyncio.run(fetch())
    if as_json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1) + "\n")
    elif records:
        t = Table(show_edge=False)
        for column in ("notice", "channel", "state", "attempts", "destination", "updated", "error"):
            t.add_column(column, overflow="fold")
        for r in records:
            updated = r.get("updated_at")
            when = dt.datetime.fromtimestamp(float(updated), dt.UTC).isoformat(timespec="seconds") if updated else ""
            t.add_row(
                r.get("notice_id", ""),
                r.get("channel", ""),
                r.get("state", ""),
                r.get("attempts", ""),
                Text(r.get("destination", "")),
                when,
                Text(r.get("error", "")),
            )
        out_console().print(t)
    else:
        err.print(f"intake: no notice records for submission {submission_id!r}", markup=False)
    raise typer.Exit(0 if records else 1)
