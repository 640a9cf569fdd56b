"""``intake dead list|show|replay``: the dead-letter stream, for operators."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated

import redis
import typer
from rich.table import Table
from rich.text import Text

from services import deadletters
from services.cli.app import app, err, out_console
from services.streams import Settings

dead = typer.Typer(
    help="Entries that could not be handled (INTAKE_DEAD_STREAM): list, show, replay.", no_args_is_help=True
)
app.add_typer(dead, name="dead")


def _client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url, decode_responses=True)


@dead.command("list")
def list_cmd(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One dead letter a line, as JSON.")] = False,
) -> None:
    """The newest dead letters: when, from which stream, after how many deliveries, and why."""
    settings = Settings()
    letters = deadletters.listing(_client(settings), settings, limit)
    if as_json:
        for item in letters:
            line = {"id": item.entry_id, **item.letter.model_dump(mode="json")}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    t = Table(show_edge=False)
    for column in ("id", "dead at", "stream", "deliveries", "submission", "error"):
        t.add_column(column, overflow="fold")
    for item in letters:
        event = item.event or {}
        t.add_row(
            item.entry_id,
            item.letter.dead_at.isoformat(timespec="seconds"),
            item.letter.stream,
            str(item.letter.deliveries),
            Text(str(event.get("submission_id", "?"))),
            Text(item.letter.error),
        )
    out_console().print(t)
    out_console().print(f"{len(letters)} shown; `intake dead show ID` for one, `intake dead replay ID` to retry it")


@dead.command("show")
def show_cmd(entry_id: Annotated[str, typer.Argument(help="The dead letter's entry id.")]) -> None:
    """One dead letter in full, with its original entry decoded. Exit 1 when there is no such entry."""
    settings = Settings()
    item = deadletters.get(_client(settings), settings, entry_id)
    if item is None:
        err.print(f"intake: no dead letter {entry_id} on {settings.dead_stream}", markup=False)
        raise typer.Exit(1)
    shown = {"id": item.entry_id, **item.letter.model_dump(mode="json")}
    if item.event is not None:
        shown["original"] = {"event": item.event}
    sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=1) + "\n")


@dead.command("replay")
def replay_cmd(
    entry_ids: Annotated[list[str] | None, typer.Argument(help="Dead letters to replay.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter (after fixing the cause).")] = False,
) -> None:
    """Put each entry back on the stream it came from and remove its dead letter.

    A notice that failed or needs review is sent again (its record goes back to pending). Exit 1
    when an id is not found.
    """
    settings = Settings()
    client = _client(settings)
    if all_:
        letters = deadletters.listing(client, settings, limit=1_000_000)[::-1]
    elif entry_ids:
        found = [deadletters.get(client, settings, eid) for eid in entry_ids]
        missing = [eid for eid, item in zip(entry_ids, found, strict=True) if item is None]
        if missing:
            err.print(f"intake: no dead letter {', '.join(missing)} on {settings.dead_stream}", markup=False)
            raise typer.Exit(1)
        letters = [item for item in found if item is not None]
    else:
        err.print("intake: name dead letters to replay, or --all", markup=False)
        raise typer.Exit(2)
    for item in letters:
        new_id = deadletters.replay(client, settings, item)
        print(f"{item.entry_id} → {item.letter.stream} {new_id}")
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    err.print(f"intake: replayed {len(letters)} dead letters at {stamp}", markup=False)
