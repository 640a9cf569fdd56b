"""A real Redis for the integration tests.

``INTAKE_TEST_REDIS_URL`` when set; else a container through testcontainers where a Docker engine
answers; else ``redis-server`` from PATH on a free loopback port. With none of these the tests
fail with a clear message; they never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import free_port


def _wait(url: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("INTAKE_TEST_REDIS_URL")
    if url:
        _wait(url)
        yield url
        return
    if _docker_answers():
        from testcontainers.redis import RedisContainer  # type: ignore[import-untyped]

        with RedisContainer("redis:7") as container:
            url = f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"
            _wait(url)
            yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail(
            "no Redis for the integration tests: set INTAKE_TEST_REDIS_URL, start a Docker engine, "
            "or install redis-server (Debian package redis-server)"
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="intake-redis-")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def prefix() -> str:
    """A namespace of streams and keys for one test, so tests never see each other's entries."""
    return f"t{uuid.uuid4().hex[:8]}"
