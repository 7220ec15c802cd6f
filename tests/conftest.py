"""Shared fixtures. The folder a test lives in sets its marker (unit, integration, e2e).

Integration and e2e tests run on real PostgreSQL: DATABASE_URL, else a server on
127.0.0.1:5432, else an embedded one. Each test session gets a database of its own and drops it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import mint_token
from domain.actor import Role
from infra.devstack.postgres_server import find_or_start_postgres
from infra.postgres.database import Database, eventstore_env, prepare
from infra.postgres.server import PostgresLocation, create_database, drop_database
from infra.settings import DEV_SIGNING_KEY

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "slotwise"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def pg_location() -> PostgresLocation:
    return find_or_start_postgres(
        os.environ.get("DATABASE_URL"), ROOT / ".state", progress=lambda _: None
    )


@pytest.fixture(scope="session")
def database(pg_location: PostgresLocation) -> Iterator[Database]:
    name = f"slotwise_test_{uuid.uuid4().hex[:12]}"
    create_database(pg_location.conninfo, name)
    db = Database(pg_location, name)
    prepare(db)
    try:
        yield db
    finally:
        drop_database(pg_location.conninfo, name)


@pytest.fixture(scope="session")
def store_env(database: Database) -> dict[str, str]:
    return eventstore_env(database, pool_size=8)


def token(role: Role, subject: uuid.UUID) -> str:
    return mint_token(DEV_SIGNING_KEY, ISSUER, role, subject)


def auth(role: Role, subject: uuid.UUID | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, subject or uuid.uuid4())}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(condition: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    pause = 0.02
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Stack:
    """The API and the projection worker as real processes on the test database."""

    def __init__(self, database: Database, log_dir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database.conninfo,
            "SLOTWISE_MODE": "test",
            "SLOTWISE_PORT": str(self.port),
            "SLOTWISE_POOL_SIZE": "8",
            "SLOTWISE_STATE_DIR": str(ROOT / ".state"),
        }
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "workers.cli", *args], env=self.env, stdout=log, stderr=log
            )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )


@pytest.fixture(scope="session")
def stack(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(database, tmp_path_factory.mktemp("stack"))
    running.start(
        "worker", "worker", "project", "scheduling", "analytics", "search", "--source", "log"
    )
    running.start("api", "serve")
    try:
        wait_until(running.healthy, timeout=30, what="the API to answer /health")
    except AssertionError:
        raise AssertionError(running.logs()) from None
    yield running
    for name in list(running.processes):
        running.stop(name)


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


def utcnow() -> datetime:
    return datetime.now(UTC)
