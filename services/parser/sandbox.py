"""Reading untrusted uploads in a child process that the kernel holds to limits.

A hostile upload (a decompression bomb, a PDF whose fonts ask for gigabytes, a loop without end)
or a reader's bug can at worst take the child down: the upload is answered ``DOC-UNREADABLE``
(``too_complex``, or ``timeout``) and the next one gets a new child. The parser goes on.

A warm child per sandbox, reading one upload at a time, forked from a forkserver that has imported
the readers, so a new child costs milliseconds, not the second of a fresh interpreter
(bench/README.md has the figures); a ``SandboxPool`` of several reads that many uploads side by
side (``INTAKE_PARSE_WORKERS``: one per core the parser may use). The limits:

- address space (``RLIMIT_AS``): ``memory_mb`` while reading, widened to ``ocr_memory_mb`` when the
  upload turns out to be a scan (OCR's models and page images: ~600 MB resident, 1.5 GB mapped);
- CPU seconds (``RLIMIT_CPU``): the upload's time budget (SIGXCPU past it);
- wall time: the parent kills the child a grace period past the budget.

The budget is the reader's own (``Limits.max_seconds``, ``ocr_seconds`` once OCR begins: the child
says so on the pipe). A child whose limits were widened, or that has grown, is replaced after its
upload, so the next upload starts small again. Nothing in here judges a document.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from contracts.report import ParsedReport
from services.parser.core import parse
from services.parser.errors import ParserError, Reason, UnreadableUpload
from services.parser.limits import MB, Deadline, Limits

_CPUS = os.cpu_count() or 1


class ReaderFailed(ParserError):
    """Raised when reading failed for a reason of the parser's own (a bug): the child's traceback."""


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    memory_mb: int = 384  # address space while reading (resident memory stays below it)
    ocr_memory_mb: int = 2048  # address space once the upload is found to be a scan
    recycle_mb: int = 192  # a child resident past this after an upload is replaced
    grace_s: float = 5.0  # past the budget before the child is killed (the reader checks its own deadline first)


class Sandbox:
    """``parse`` in a warm child process under kernel limits; one upload at a time (thread-safe)."""

    def __init__(self, limits: Limits, box: SandboxLimits | None = None) -> None:
        self.limits = limits
        self.box = box or SandboxLimits()
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self.started = 0  # children started (the first, and one after each death or recycling)

    def parse(self, data: bytes, filename: str | None = None, media_type: str | None = None) -> ParsedReport:
        """What ``core.parse`` returns or raises; ``UnreadableUpload`` too when the child dies,
        runs out of a limit or takes too long; ``ReaderFailed`` on a reader's bug."""
        with self._lock:
            conn = self._child()
            try:
                conn.send((data, filename, media_type))
            except (BrokenPipeError, EOFError, OSError):
                raise self._died() from None
            return self._await(conn)

    def start(self) -> None:
        """The child started now (the forkserver's imports, the fork), not by the first upload."""
        with self._lock:
            self._child()

    @property
    def pid(self) -> int | None:
        """The child's process id, while one runs."""
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
            self._reap(wait=2.0)

    def _await(self, conn: Connection) -> ParsedReport:
        start = time.monotonic()
        budget = self.limits.max_seconds
        while True:
            left = start + budget + self.box.grace_s - time.monotonic()
            if left <= 0 or not conn.poll(left):
                self._reap(wait=0)
                raise UnreadableUpload(Reason.TIMEOUT, f"reading took longer than {budget:g} s and was stopped")
            try:
                kind, *rest = conn.recv()
            except (EOFError, OSError):
                raise self._died() from None
            if kind == "widen":  # OCR begins: the child has its larger budget
                budget = max(budget, rest[0])
                continue
            if kind == "recycle":  # the child exits after this upload
                self._reap(wait=2.0)
                kind, *rest = rest
            if kind == "report":
                report: ParsedReport = rest[0]
                return report
            if kind == "unreadable":
                raise UnreadableUpload(Reason(rest[0]), rest[1])
            raise ReaderFailed(rest[0])

    def _child(self) -> Connection:
        if self._proc is not None and self._conn is not None and self._proc.is_alive():
            return self._conn
        self._reap(wait=0)
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["services.parser.sandbox"])
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(theirs, self.limits, self.box), name="intake-reader", daemon=True)
        proc.start()
        theirs.close()
        self._proc, self._conn = proc, ours
        self.started += 1
        return ours

    def _died(self) -> UnreadableUpload:
        code = self._reap(wait=5.0)
        if code == -signal.SIGXCPU:
            why = f"reading used more than its {self.limits.max_seconds:g} s of processor time"
        elif code == -signal.SIGKILL:
            why = "the reading process was killed (out of memory)"
        elif code is not None and code < 0:
            why = f"the reading process died ({signal.Signals(-code).name})"
        else:
            why = f"the reading process ended (exit status {code})"
        return UnreadableUpload(Reason.TOO_COMPLEX, why)

    def _reap(self, wait: float) -> int | None:
        """The child gone (killed when it has not gone within ``wait`` seconds): its exit code."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is None:
            return None
        proc.join(wait)
        if proc.is_alive():
            proc.kill()
            proc.join(5.0)
        code = proc.exitcode
        proc.close()
        return code


class SandboxPool:
    """``size`` sandboxes: ``parse`` reads in whichever is free, so that ``size`` uploads are read at
    once (each in its own child, under its own limits); thread-safe."""

    def __init__(self, limits: Limits, box: SandboxLimits | None = None, size: int = 1) -> None:
        self.sandboxes = [Sandbox(limits, box) for _ in range(max(1, size))]
        self._free: queue.SimpleQueue[Sandbox] = queue.SimpleQueue()
        for sandbox in self.sandboxes:
            self._free.put(sandbox)

    def parse(self, data: bytes, filename: str | None = None, media_type: str | None = None) -> ParsedReport:
        sandbox = self._free.get()
        try:
            return sandbox.parse(data, filename, media_type)
        finally:
            self._free.put(sandbox)

    @property
    def started(self) -> int:
        return sum(s.started for s in self.sandboxes)

    def start(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.start()

    def close(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.close()


def _serve(conn: Connection, limits: Limits, box: SandboxLimits) -> None:
    """The child: read uploads from the pipe until it closes, or until this child should go."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C is the parent's to handle
    ceiling = box.ocr_memory_mb * MB
    _set(resource.RLIMIT_AS, box.memory_mb * MB, ceiling)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        widened = False

        def widen(seconds: float) -> None:
            nonlocal widened
            if widened:
                return
            widened = True
            _set(resource.RLIMIT_AS, ceiling, ceiling)
            _cpu(seconds * _CPUS + box.grace_s)  # OpenCV may use every core
            conn.send(("widen", seconds))

        _cpu(limits.max_seconds + box.grace_s)
        reply: tuple[Any, ...]
        try:
            data, filename, media_type = job
            reply = ("report", parse(data, filename, media_type, limits, Deadline(limits.max_seconds, widen)))
        except UnreadableUpload as exc:
            reply = ("unreadable", exc.reason.value, exc.detail)
        except MemoryError:
            widened = True  # the heap may be in pieces: a new child for the next upload
            reply = ("unreadable", Reason.TOO_COMPLEX.value, "reading needed more memory than an upload may have")
        except RecursionError:
            reply = ("unreadable", Reason.TOO_COMPLEX.value, "the document is nested too deeply to read")
        except Exception:
            reply = ("error", traceback.format_exc(limit=-8))
        del job
        done = widened or _resident() > box.recycle_mb * MB
        try:
            conn.send(("recycle", *reply) if done else reply)
        except MemoryError:
            conn.send(("recycle", "unreadable", Reason.TOO_COMPLEX.value, "the report read is too large to hand on"))
            return
        if done:
            return


def _set(limit: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(limit)
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
    resource.setrlimit(limit, (min(soft, hard), hard))


def _cpu(seconds: float) -> None:
    """SIGXCPU once this child has used ``seconds`` more of processor time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
