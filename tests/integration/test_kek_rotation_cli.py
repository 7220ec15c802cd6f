"""`slotwise keys rotate` on PostgreSQL: every data key re-wrapped under the new KEK through the
real CLI, events untouched, and a rotation without the old KEK refused with what to do."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from infra.crypto.kek import KeyEncryptionKey, KeyRing
from infra.crypto.key_store import PostgresKeyStore
from infra.postgres.database import Database
from infra.postgres.server import PostgresLocation
from tests.databases import database_of_its_own
from workers.cli import main

OLD = KeyEncryptionKey(1, os.urandom(32))
NEW = KeyEncryptionKey(2, os.urandom(32))


def b64(kek: KeyEncryptionKey) -> str:
    return base64.b64encode(kek.key).decode()


@pytest.fixture
def db(pg_location: PostgresLocation, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    with database_of_its_own(pg_location, "kek_rotation") as fresh:
        monkeypatch.setenv("DATABASE_URL", fresh.conninfo)
        monkeypatch.setenv("SLOTWISE_MODE", "test")
        monkeypatch.setenv("SLOTWISE_KEK", b64(OLD))
        monkeypatch.setenv("SLOTWISE_KEK_VERSION", "1")
        main(["db", "migrate"])
        yield fresh


def kek_versions(db: Database) -> list[Any]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(
            "SELECT DISTINCT kek_version FROM slotwise_keys.data_keys WHERE wrapped IS NOT NULL"
        ).fetchall()


def test_keys_rotate_rewraps_every_data_key_under_the_new_kek(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    subjects = [uuid4() for _ in range(3)]
    with ConnectionPool(db.conninfo, min_size=1, max_size=1) as pool:
        before = PostgresKeyStore(pool, KeyRing(OLD))
        data_keys = {s: before.create(s) for s in subjects}
    assert kek_versions(db) == [(1,)]

    monkeypatch.setenv("SLOTWISE_KEK", b64(NEW))
    monkeypatch.setenv("SLOTWISE_KEK_VERSION", "2")
    monkeypatch.setenv("SLOTWISE_KEK_RETIRED", f"1:{b64(OLD)}")
    capsys.readouterr()
    main(["keys", "rotate"])
    captured = capsys.readouterr()
    assert "3 data key(s) re-wrapped" in captured.out + captured.err

    assert kek_versions(db) == [(2,)]
    with ConnectionPool(db.conninfo, min_size=1, max_size=1) as pool:
        after = PostgresKeyStore(pool, KeyRing(NEW))  # the old KEK is no longer needed
        assert {s: after.get(s) for s in subjects} == data_keys


def test_keys_rotate_without_the_old_kek_is_refused_and_changes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectionPool(db.conninfo, min_size=1, max_size=1) as pool:
        PostgresKeyStore(pool, KeyRing(OLD)).create(uuid4())

    monkeypatch.setenv("SLOTWISE_KEK", b64(NEW))
    monkeypatch.setenv("SLOTWISE_KEK_VERSION", "2")
    with pytest.raises(SystemExit) as refused:
        main(["keys", "rotate"])
    assert "SLOTWISE_KEK_RETIRED" in str(refused.value)
    assert kek_versions(db) == [(1,)]
