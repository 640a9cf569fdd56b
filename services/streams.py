"""Stream names, consumer groups and the other settings every service reads (``INTAKE_*``)."""

from __future__ import annotations

import os
import socket
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Built inside ``create_*`` functions, not at import, so tests pass their own values."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    redis_url: str = "redis://localhost:6379/0"
    offices_file: str | None = None
    outbox_dir: str | None = None  # notices also written here (one folder per office) when set
    submissions_stream: str = "intake:submissions"
    parsed_stream: str = "intake:parsed"
    verdicts_stream: str = "intake:verdicts"
    notices_stream: str = "intake:notices"
    dead_stream: str = "intake:dead"
    parser_group: str = "parser"
    validator_group: str = "validator"
    notifier_group: str = "notifier"
    consumer: str = f"{socket.gethostname()}-{os.getpid()}"
    batch: int = 64
    min_idle_ms: int = 15_000
    max_deliveries: int = 5
    inline_max_bytes: int = 256 * 1024  # larger uploads travel by claim check
    max_upload_bytes: int = 16 * 1024 * 1024
    soffice: str | None = None  # LibreOffice for legacy Word (.doc/.wps); None: found on PATH, "": none
    convert_seconds: float = 30.0  # the time one legacy Word conversion may take
    ocr_seconds: float = 120.0  # the time a scanned upload (read by OCR, seconds a page) may take
    parse_sandbox: bool = True  # read each upload in a child process under kernel limits (services/parser/sandbox.py)
    parse_workers: int = 1  # uploads read at once, each in its own child: one per core the parser may use
    parse_memory_mb: int = 384  # the child's address space while reading an upload ...
    ocr_memory_mb: int = 2048  # ... and once the upload is found to be a scan (OCR)
    key_prefix: str = "intake"
    metrics_port: int | None = 9464  # /metrics, /healthz, /readyz; 0 or unset env with none: off
    metrics_host: str = "0.0.0.0"

    # Notices (services/notifier): channels, retries and the notice records' lifetime.
    smtp_host: str | None = None  # email is a channel only when a server is configured
    smtp_port: int = 25
    smtp_from: str = "政府信息公开年报审核 <intake@localhost>"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["auto", "none", "starttls", "tls"] = "auto"  # auto: STARTTLS when offered
    smtp_validate_certs: bool = True
    smtp_ca_file: str | None = None  # a CA bundle for the mail server's certificate (e.g. a private CA)
    smtp_timeout_s: float = 30.0
    smtp_connections: int = 4  # kept open and reused; also how many emails go out at once
    webhook_timeout_s: float = 10.0
    webhook_concurrency: int = 32
    notice_receipts: bool = False  # also notify accepted submissions (an acceptance receipt)
    notice_retry_base_s: float = 2.0  # backoff doubles from here, with jitter ...
    notice_retry_max_s: float = 600.0  # ... up to this ...
    notice_retry_window_s: float = 24 * 3600.0  # ... and a notice still undelivered after this has failed
    notice_sending_stale_s: float = 60.0  # "sending" older than this was interrupted by a crash
    notice_record_retry_s: float = 30.0  # how long a sent notice's record write rides out Redis being away
    shutdown_s: float = 8.0  # after SIGTERM: no new entry is started; what is in hand gets this long
    notice_record_ttl_s: int = 90 * 24 * 3600

    @property
    def seen_prefix(self) -> str:
        """Where the dedupe keys of published events live (``services.delivery.seen_key``)."""
        return f"{self.key_prefix}:seen"
