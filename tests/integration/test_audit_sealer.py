"""The sealer on real PostgreSQL: it seals every stored event exactly as stored, signs
checkpoints by count, never seals past a position that may still appear (an insert in flight),
seals past one that never will (a rolled-back insert), and resumes after SIGKILL with every
hash the same as a from-scratch computation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from infra.audit.files import CheckpointDirectory, read_notes
from infra.crypto.note import NoteSignerKey, NoteVerifiers
from infra.postgres.database import Database, eventstore_env
from infra.postgres.server import PostgresLocation
from projections.audit.checkpoint import Checkpoint
from projections.audit.sealing import CheckpointPolicy, Head, seal
from projections.audit.verify import verify
from tests.audit_support import SIGNER, fill, rolled_back_insert, seal_to_end, store_on
from tests.conftest import ROOT, wait_until
from tests.databases import database_of_its_own
from tests.keys import keyed_scheduling

EVERY_10 = CheckpointPolicy(every_events=10, every_seconds=3600)


@pytest.fixture
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "sealer") as fresh:
        yield fresh


@pytest.fixture
def log(db: Database) -> Iterator[Scheduling]:
    with keyed_scheduling(db) as keyed:
        app = keyed(eventstore_env(db, 2))
        try:
            yield app
        finally:
            app.close()


@pytest.fixture
def pool(db: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(db.conninfo, min_size=1, max_size=4) as p:
        yield p


def _positions(db: Database) -> list[int]:
    with psycopg.connect(db.conninfo) as conn:
        rows = conn.execute("SELECT notification_id FROM slotwise_events ORDER BY 1").fetchall()
    return [int(r[0]) for r in rows]


def test_every_event_is_sealed_as_stored_and_checkpoints_come_every_10(
    log: Scheduling, pool: ConnectionPool[Any]
) -> None:
    fill(log, 6)
    store = store_on(log, pool, "slotwise.test/sealed")
    signed = seal_to_end(store, EVERY_10)
    records = list(store.records())
    seals = list(store.seals())
    assert [s.position for s in seals] == [r.position for r in records]
    expected = seal(Head(), records)
    assert seals == expected
    assert signed == list(range(10, len(records) + 1, 10))
    verifier = NoteVerifiers([SIGNER.verifier()])
    notes = [(str(c.size), c.note) for c in store.checkpoints()]
    report = verify(records, seals, notes, verifier)
    assert report.ok, report.findings
    assert [c.size for c in report.checkpoints] == signed


def test_a_rolled_back_insert_is_a_gap_sealed_past_once_confirmed(
    db: Database, log: Scheduling, pool: ConnectionPool[Any]
) -> None:
    provider_id = fill(log, 1)
    rolled_back_insert(log, provider_id)
    fill(log, 1)
    positions = _positions(db)
    missing = sorted(set(range(1, positions[-1] + 1)) - set(positions))
    assert len(missing) == 1
    store = store_on(log, pool, "slotwise.test/gap")
    first = store.seal_batch(1000, EVERY_10, SIGNER)
    assert first.at_gap
    assert store.head()[1] == missing[0] - 1  # not past the gap before it is confirmed
    seal_to_end(store, EVERY_10)
    assert [s.position for s in store.seals()] == positions


def _raw_insert(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "INSERT INTO slotwise_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, 'raw', '\\x00') RETURNING notification_id",
        (uuid4(),),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_an_insert_in_flight_holds_the_seal_back_until_it_ends(
    db: Database, log: Scheduling, pool: ConnectionPool[Any], outcome: str
) -> None:
    """A writer that does not take the event store's table lock (the library's other insert
    path, or anyone's SQL) can commit a later position before an earlier one."""
    fill(log, 1)
    store = store_on(log, pool, f"slotwise.test/in-flight-{outcome}")
    seal_to_end(store, EVERY_10)
    with psycopg.connect(db.conninfo) as slow, psycopg.connect(db.conninfo) as fast:
        early = _raw_insert(slow)  # uncommitted
        late = _raw_insert(fast)
        fast.commit()
        assert late == early + 1
        batch = store.seal_batch(1000, EVERY_10, SIGNER)
        assert (batch.at_gap, batch.sealed) == (True, 0)
        assert not store.confirm_gaps(lock_timeout_ms=100)  # the insert is still in flight
        assert store.seal_batch(1000, EVERY_10, SIGNER).sealed == 0
        assert store.head()[1] == early - 1
        if outcome == "commit":
            slow.commit()
        else:
            slow.rollback()
    seal_to_end(store, EVERY_10)
    sealed = [s.position for s in store.seals()]
    assert sealed[-2:] == ([early, late] if outcome == "commit" else [early - 1, late])


def _start_sealer(db: Database, checkpoints: Path, log_file: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db.conninfo,
        "SLOTWISE_MODE": "test",
        "SLOTWISE_STATE_DIR": str(ROOT / ".state"),
        "SLOTWISE_AUDIT_ORIGIN": "slotwise.test/killed",
        "SLOTWISE_AUDIT_CHECKPOINT_EVERY": "7",
        "SLOTWISE_AUDIT_CHECKPOINT_DIR": str(checkpoints),
    }
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker", "seal"],
            env=env,
            stdout=out,
            stderr=out,
        )


def test_the_sealer_killed_mid_run_resumes_and_no_hash_differs(
    db: Database, log: Scheduling, pool: ConnectionPool[Any], tmp_path: Path
) -> None:
    store = store_on(log, pool, "slotwise.test/killed")
    done = threading.Event()

    def write() -> None:
        while not done.is_set():
            fill(log, 1)

    writer = threading.Thread(target=write)
    process = _start_sealer(db, tmp_path / "checkpoints", tmp_path / "sealer.log")
    try:
        writer.start()
        wait_until(lambda: store.head()[0] >= 20, what="the sealer to seal 20 events")
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed_at = store.head()[1]
        wait_until(lambda: _positions(db)[-1] > killed_at + 20, what="more events after the kill")
        done.set()
        writer.join()
        process = _start_sealer(db, tmp_path / "checkpoints", tmp_path / "sealer.log")
        head = _positions(db)[-1]
        wait_until(lambda: store.head()[1] == head, timeout=30, what="the sealer to catch up")
    finally:
        done.set()
        process.terminate()
        process.wait(timeout=15)
        writer.join()
    records = list(store.records())
    assert list(store.seals()) == seal(Head(), records)  # every leaf and chain hash
    development = NoteSignerKey.development("slotwise.test/killed")
    stored = store.checkpoints()
    assert [c.size for c in stored] == list(range(7, len(records) + 1, 7))
    directory = CheckpointDirectory(tmp_path / "checkpoints", "slotwise.test/killed")
    files = read_notes(directory.path)
    assert [note for _, note in files] == [c.note for c in stored]
    verifier = NoteVerifiers([development.verifier()])
    for c in stored:
        assert Checkpoint.parse(verifier.open(c.note)).size == c.size
    report = verify(records, store.seals(), files, verifier)
    assert report.ok, report.findings
