"""Stream names, consumer groups and the other settings every service reads (``INTAKE_*``)."""

from __future__ import annotations

import os
import socket

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Built inside ``create_*`` functions, not at import, so tests pass their own values."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    redis_url: str = "redis://localhost:6379/0"
    offices_file: str | None = None
    outbox_dir: str = "outbox"
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
    key_prefix: str = "intake"
    metrics_port: int | None = 9464  # /metrics, /healthz, /readyz; 0 or unset env with none: off
    metrics_host: str = "0.0.0.0"
