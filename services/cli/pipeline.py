"""``intake serve``, ``intake submit`` and ``intake demo``: the pipeline on Redis streams."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from contracts.events import ReportJudged
from services.app import application, served
from services.cli.app import app, err, out_console, read_file
from services.cli.check import findings_table
from services.notifier.records import states_key
from services.observability import Metrics, StreamCollector, configure_logging, serve_http
from services.registry import Live
from services.runtime import SERVICES, clients, submit
from services.streams import Settings

# The bundled samples: beside the package in a checkout; in the working directory where the
# package is installed (the image keeps them in /app, its working directory).
SAMPLES = next(
    (p for p in (Path(__file__).resolve().parents[2] / "samples", Path("samples").resolve()) if p.is_dir()),
    Path("samples"),
)


def quiet_gc() -> None:
    """Keep the cyclic garbage collector off the hot path of a long-running service.

    What was imported at start lives as long as the process; ``gc.freeze`` moves it out of the
    collector's sight, so a full collection no longer walks every module, schema and template.
    The reports, cells and events made per entry are freed by reference counting as soon as the
    entry is acked; collecting the young generation every 700 container allocations (the default)
    spent about an eighth of the validator's instructions per entry, so it runs less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def run_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run the services' event loop: uvloop where it is installed (a third less CPU per entry), else asyncio's."""
    quiet_gc()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS only
        asyncio.run(coro)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)


@app.command("serve")
def serve_cmd(
    service: Annotated[str, typer.Argument(help="parser, validator, notifier or all")],
) -> None:
    """Run service(s), a FastStream application, against INTAKE_REDIS_URL until SIGTERM/SIGINT; then
    begin no new entry, give what is in hand INTAKE_SHUTDOWN_S, and exit.

    The same application: faststream run services.app:NAME --factory (services/app.py).

    Settings (environment; all of them, with defaults, in docs/operations.md):

    INTAKE_REDIS_URL, INTAKE_OFFICES_FILE (the office registry; SIGHUP reloads it), INTAKE_METRICS_PORT.

    INTAKE_CONSUMER, INTAKE_BATCH, INTAKE_MIN_IDLE_MS, INTAKE_MAX_DELIVERIES, INTAKE_SHUTDOWN_S.

    Notifier: INTAKE_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD, _TLS (auto|starttls|tls|none), _CA_FILE.

    Notifier: INTAKE_OUTBOX_DIR, INTAKE_NOTICE_RECEIPTS, INTAKE_NOTICE_RETRY_BASE_S, _MAX_S, _WINDOW_S.

    Webhook signing secrets: the variables the office registry names.
    """
    names = SERVICES if service == "all" else (service,)
    if any(n not in SERVICES for n in names):
        err.print(f"intake: unknown service {service!r}; choose parser, validator, notifier or all", markup=False)
        raise typer.Exit(2)
    settings = Settings()
    pipeline = served(names, settings)
    where = f", metrics on :{settings.metrics_port}" if settings.metrics_port else ""
    err.print(
        f"intake: serving {', '.join(names)} on {settings.redis_url} as {settings.consumer}{where}",
        markup=False,
        highlight=False,
    )
    try:
        run_loop(pipeline.app.run(log_level=logging.DEBUG))
    except OSError as exc:
        err.print(f"intake: cannot serve metrics on port {settings.metrics_port}: {exc.strerror}", markup=False)
        raise SystemExit(2) from exc


async def _wait_verdict(settings: Settings, text: Any, submission_id: str, since: str, seconds: float) -> dict | None:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    last = since
    while time.monotonic() < deadline:
        reply = await text.xread({settings.verdicts_stream: last}, count=100, block=200)
        for _stream, entries in reply or []:
            for eid, fields in entries:
                last = eid
                event = json.loads(fields["event"])
                if event.get("submission_id") == submission_id:
                    return event  # type: ignore[no-any-return]
    return None


@app.command("submit")
def submit_cmd(
    file: Annotated[Path, typer.Argument(help="The upload.")],
    office: Annotated[str, typer.Option(help="The submitting office's id (office registry).")],
    year: Annotated[int | None, typer.Option(help="The declared report year.")] = None,
    wait: Annotated[float | None, typer.Option(help="Wait this many seconds for the verdict and print it.")] = None,
) -> None:
    """Publish one submission exactly as the portal would; print its id (and, with --wait, the verdict).

    Exit status: 0 submitted (or accepted); 1 rejected; 2 usage error; 3 no verdict in time.
    """
    data = read_file(file)
    if data is None:
        raise typer.Exit(2)
    settings = Settings()

    async def main() -> int:
        text, raw = clients(settings)
        try:
            last: Any = await text.xrevrange(settings.verdicts_stream, count=1)
            since = last[0][0] if last else "0-0"  # verdicts after this entry may be ours
            sub = await submit(text, raw, settings, data, file.name, office, year)
            print(sub.submission_id)
            if wait is None:
                return 0
            verdict = await _wait_verdict(settings, text, sub.submission_id, since, wait)
            if verdict is None:
                err.print(f"intake: no verdict for {sub.submission_id} within {wait:g} s", markup=False)
                return 3
            print(json.dumps(verdict["verdict"], ensure_ascii=False))
            return 0 if verdict["verdict"]["status"] == "accepted" else 1
        except ValueError as exc:
            err.print(f"intake: {exc}", markup=False)
            return 2
        finally:
            await text.aclose()
            await raw.aclose()

    raise typer.Exit(asyncio.run(main()))


def _embedded_redis() -> str:
    """fakeredis' TCP server on a free loopback port: the demo's broker when none is configured."""
    from fakeredis import TcpFakeServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    server.daemon_threads = True  # its connection threads must not keep the process alive at exit
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"redis://127.0.0.1:{port}/0"


@app.command("demo")
def demo_cmd(
    outbox: Annotated[
        Path | None, typer.Option(help="Where notices are delivered (default: a temporary folder).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="The services' log lines on standard error, not in a file.")
    ] = False,
) -> None:
    """The whole pipeline in one process: submit the bundled samples, print each verdict and notice.

    The services' log lines go to ``intake-demo.log`` in the outbox's folder (named at the start),
    or to standard error with ``--verbose``.
    """
    url = os.environ.get("INTAKE_REDIS_URL") or _embedded_redis()
    folder = outbox or Path(tempfile.mkdtemp(prefix="intake-outbox-"))
    settings = Settings(
        redis_url=url, offices_file=str(SAMPLES / "offices.yaml"), outbox_dir=str(folder), consumer="demo"
    )
    if not (SAMPLES / "reports").is_dir():
        raise typer.BadParameter(f"no bundled samples here ({SAMPLES}): run it from the checkout or the image's /app")
    reports = sorted((SAMPLES / "reports").iterdir())
    out = out_console()
    if verbose:
        configure_logging(json_lines=True)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / "intake-demo.log"
        log_file = log_path.open("a", encoding="utf-8", buffering=1)  # closed at exit
        configure_logging(json_lines=True, file=log_file)
        out.print(f"the services' log lines: {escape(str(log_path))} (--verbose: here)")
    metrics = Metrics()

    async def main() -> None:
        text, raw = clients(settings)
        pipeline = application(settings, on_entry=metrics.on_entry, on_error=metrics.on_error, metrics=metrics)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        collector = StreamCollector(url, pipeline.consumers, states_key(settings.key_prefix))
        serve_http(metrics, collector, port, "127.0.0.1")
        out.print(f"metrics served at http://127.0.0.1:{port}/metrics while the demo runs")
        await pipeline.app.start()
        start: Any = await text.xrevrange(settings.verdicts_stream, count=1)
        since = start[0][0] if start else "0-0"
        ids = {}
        for path in reports:
            office, year = path.stem.rsplit("-", 1)
            sub = await submit(text, raw, settings, path.read_bytes(), path.name, office, int(year))
            ids[sub.submission_id] = path.name
        out.print(f"submitted {len(ids)} sample reports to {escape(url)}; waiting for verdicts…")
        verdicts: dict[str, ReportJudged] = {}
        deadline = time.monotonic() + 60
        last = since
        while len(verdicts) < len(ids) and time.monotonic() < deadline:
            reply: Any = await text.xread({settings.verdicts_stream: last}, count=100, block=200)
            for _s, entries in reply or []:
                for eid, fields in entries:
                    last = eid
                    event = ReportJudged.model_validate_json(fields["event"])
                    if event.submission_id in ids:
                        verdicts[event.submission_id] = event
        rejected = {sid for sid, v in verdicts.items() if v.verdict.status == "rejected"}
        noticed: set[str] = set()
        last = "0-0"
        while not rejected <= noticed and time.monotonic() < deadline:  # the notices of the rejections
            reply = await text.xread({settings.notices_stream: last}, count=100, block=200)
            for _s, entries in reply or []:
                for eid, fields in entries:
                    last = eid
                    noticed.add(json.loads(fields["event"])["submission_id"])
        await pipeline.app.stop()
        offices = Live(settings.offices_file)()
        for sid, name in ids.items():
            judged = verdicts.get(sid)
            if judged is None:
                out.print(f"[red]{escape(name)}: no verdict[/]")
                continue
            findings_table(out, f"{name} ({judged.office_id})", judged.verdict, "zh")
            notice = folder / judged.office_id / f"{sid}.txt"
            registered = offices.get(judged.office_id)
            if notice.exists() and registered is not None:
                out.print(
                    f"\n[bold]notice to {escape(registered.name)} <{escape(registered.email or '-')}>"
                    f" (here: the outbox, {escape(str(notice))}):[/]\n"
                )
                out.print(notice.read_text(encoding="utf-8"), markup=False, highlight=False, soft_wrap=True)
        await text.aclose()
        await raw.aclose()
        if len(verdicts) < len(ids):
            sys.exit(1)

    asyncio.run(main())
