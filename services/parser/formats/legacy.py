"""Legacy Word (.doc, and WPS's .wps: the same OLE2 container), converted to .docx by LibreOffice
headless and read by the .docx reader.

One LibreOffice process per conversion, with a fresh user profile in a temporary folder, no
network (its own network namespace where the system allows one), a time limit and the upload's
size limits on what comes back; a converter that hangs is killed with its whole process group.
A long-running converter (unoserver) converts in ~0.17 s instead of ~1.1 s, but keeps one
LibreOffice for every upload: a hostile document could hang or damage it for all the others, and
it is one more process to watch. Legacy Word is a small share of the uploads; isolation wins
(docs/architecture.md has the figures).
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from services.parser.errors import Reason, UnreadableUpload
from services.parser.limits import Deadline, Limits

# An OLE2 directory entry's name is written in UTF-16LE: a Word document holds a "WordDocument"
# stream; an OOXML file encrypted with a password is an OLE2 file holding an "EncryptedPackage".
WORD_STREAM = "WordDocument".encode("utf-16-le")
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_DOCX_FILTER = "docx:MS Word 2007 XML"


@functools.cache
def find_soffice() -> str | None:
    """LibreOffice's ``soffice`` on PATH (Debian ``libreoffice-writer-nogui``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def _isolated() -> list[str]:
    """``unshare --net`` where this system lets a process have a network namespace of its own."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    try:
        ok = subprocess.run([unshare, "--net", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return [unshare, "--net"] if ok else []


def to_docx(data: bytes, limits: Limits, deadline: Deadline) -> bytes:
    """The upload converted to .docx, or ``UnreadableUpload`` saying plainly why not."""
    soffice = limits.soffice if limits.soffice is not None else find_soffice()
    if not soffice:
        raise UnreadableUpload(Reason.CONVERTER_MISSING, "legacy Word: converter not installed")
    seconds = min(limits.convert_seconds, deadline.left())
    with tempfile.TemporaryDirectory(prefix="intake-doc-") as tmp:
        folder = Path(tmp)
        source = folder / "upload.doc"
        source.write_bytes(data)
        cmd = [
            *_isolated(),
            soffice,
            "--headless",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--convert-to",
            _DOCX_FILTER,
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        env = {
            "HOME": tmp,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SAL_USE_VCLPLUGIN": "svp",
            "LANG": "C.UTF-8",
        }
        _run(cmd, env, seconds)
        out = folder / "out" / "upload.docx"
        if not out.is_file() or out.stat().st_size == 0:
            raise UnreadableUpload(Reason.CONVERTER_FAILED, "legacy Word: the converter could not read the file")
        if out.stat().st_size > limits.max_bytes:
            raise UnreadableUpload(Reason.TOO_LARGE, "legacy Word: the converted document is over the size limit")
        return out.read_bytes()


def _run(cmd: list[str], env: dict[str, str], seconds: float) -> None:
    """Run the converter in a process group of its own; past ``seconds``, kill the whole group
    (``soffice`` is a script that starts ``soffice.bin``: killing the script alone leaves it)."""
    if seconds <= 0:
        raise UnreadableUpload(Reason.TIMEOUT, "no time left to convert the legacy Word file")
    try:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_own_limits,
        )
    except OSError as exc:
        raise UnreadableUpload(Reason.CONVERTER_MISSING, f"legacy Word: the converter cannot start ({exc})") from exc
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise UnreadableUpload(
            Reason.CONVERTER_FAILED, f"legacy Word: the converter took longer than {seconds:g} s and was stopped"
        ) from None
    finally:
        _kill(proc)  # anything it left behind in its group
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise UnreadableUpload(Reason.CONVERTER_FAILED, f"legacy Word: the converter failed ({tail[0][:200]})")


def _own_limits() -> None:
    """In the converter, before it starts: the reader's address-space limit (services/parser/
    sandbox.py) is not LibreOffice's (~600 MB mapped), which is held by its time limit instead."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
