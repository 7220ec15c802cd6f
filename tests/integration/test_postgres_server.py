import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra.devstack.postgres_server import find_or_start_postgres, stop_embedded_postgres
from infra.postgres.server import (
    PostgresLocation,
    PostgresUnavailableError,
    conninfo_for,
    create_database,
    drop_database,
)

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _answers(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresLocation]:
    """Whatever server discovery finds here; an embedded one is stopped afterwards."""
    state_dir = tmp_path_factory.mktemp("state")
    location = find_or_start_postgres(
        os.environ.get("DATABASE_URL"), state_dir, progress=lambda _: None
    )
    yield location
    stop_embedded_postgres(state_dir)


def test_an_explicit_url_that_answers_is_used(server: PostgresLocation, tmp_path: Path) -> None:
    location = find_or_start_postgres(server.conninfo, tmp_path, progress=lambda _: None)

    assert (location.host, location.port, location.user) == (server.host, server.port, server.user)
    assert location.dbname == server.dbname
    assert not location.embedded
    assert _answers(location.conninfo)
    assert not (tmp_path / "postgres").exists()


def test_an_explicit_url_that_does_not_answer_says_what_to_do(tmp_path: Path) -> None:
    port = _closed_port()

    with pytest.raises(PostgresUnavailableError) as raised:
        find_or_start_postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", tmp_path)

    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message
    assert "DATABASE_URL" in message
    assert not (tmp_path / "postgres").exists()


def test_a_server_on_the_default_port_is_found(tmp_path: Path) -> None:
    if not _answers("postgresql://postgres@127.0.0.1:5432/postgres") and not _answers(
        "postgresql://root@127.0.0.1:5432/postgres"
    ):
        pytest.skip("no PostgreSQL with trust auth on 127.0.0.1:5432")
    messages: list[str] = []

    location = find_or_start_postgres(None, tmp_path, progress=messages.append)

    assert (location.host, location.port, location.dbname) == ("127.0.0.1", 5432, "postgres")
    assert location.user in {"postgres", "root"}
    assert location.password is None
    assert not location.embedded
    assert location.conninfo == f"postgresql://{location.user}@127.0.0.1:5432/postgres"
    assert messages == [f"Using PostgreSQL at 127.0.0.1:5432 as {location.user}"]
    assert not (tmp_path / "postgres").exists()


def test_a_database_is_created_and_dropped_even_with_a_session_open(
    server: PostgresLocation,
) -> None:
    name = f"Slotwise-test {uuid.uuid4().hex[:8]}"  # needs quoting as an identifier
    create_database(server.conninfo, name)
    try:
        database_url = conninfo_for(server, name)
        with psycopg.connect(database_url, autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (name,)
            drop_database(server.conninfo, name)  # FORCE ends this open session
    finally:
        drop_database(server.conninfo, name)

    with psycopg.connect(server.conninfo) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert found is None


def test_conninfo_for_keeps_every_parameter_but_the_database() -> None:
    location = PostgresLocation(
        conninfo="postgresql://app:s%40cret@db.internal:6543/main?sslmode=require",
        host="db.internal",
        port=6543,
        user="app",
        password="s@cret",
        dbname="main",
        embedded=False,
    )

    assert conninfo_for(location, "other db") == (
        "postgresql://app:s%40cret@db.internal:6543/other%20db?sslmode=require"
    )


def test_an_embedded_server_is_started_reused_and_stopped(tmp_path: Path) -> None:
    messages: list[str] = []
    try:
        location = find_or_start_postgres(
            None, tmp_path, progress=messages.append, probe_default=False
        )

        assert location.embedded
        assert location.host == "127.0.0.1"
        assert location.port != 5432
        assert (location.user, location.dbname) == ("postgres", "postgres")
        with psycopg.connect(location.conninfo) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None
        assert int(version[0]) >= 180000
        assert (tmp_path / "postgres.json").exists()

        again = find_or_start_postgres(
            None, tmp_path, progress=messages.append, probe_default=False
        )

        assert again == location
        assert messages[-1].startswith("Reusing embedded PostgreSQL")
    finally:
        stopped = stop_embedded_postgres(tmp_path)

    assert stopped
    assert not _answers(location.conninfo)
    assert not (tmp_path / "postgres.json").exists()
    assert not stop_embedded_postgres(tmp_path)
