"""`slotwise audit verify --live` run as the real command on a sealed PostgreSQL log: a clean
log passes; an UPDATE of one stored event's bytes is named by its position; and erasing a
patient after sealing (their key destroyed) leaves both the live and the offline verifier
passing, as the hashes are over the stored ciphertext, which erasure does not touch."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from commands.directory.messages import ErasePatient
from commands.scheduling import Scheduling
from domain.patient import ErasureReason, Patient
from infra.audit.export import write_export
from infra.postgres.database import Database, events_table, eventstore_env
from infra.postgres.seals import PostgresSeals
from infra.postgres.server import PostgresLocation
from projections.audit.sealing import CheckpointPolicy
from tests.audit_support import SIGNER, fill, seal_to_end, store_on
from tests.builders import as_staff, patient_registers
from tests.conftest import ROOT
from tests.databases import database_of_its_own
from tests.keys import keyed_scheduling

ORIGIN = "slotwise.test/live"
EVERY_4 = CheckpointPolicy(every_events=4, every_seconds=3600)
KEY = ("--key", SIGNER.verifier().text())


@pytest.fixture
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "verify_live") as fresh:
        yield fresh


@pytest.fixture
def app(db: Database) -> Iterator[Scheduling]:
    with keyed_scheduling(db) as keyed:
        scheduling = keyed(eventstore_env(db, 2))
        try:
            yield scheduling
        finally:
            scheduling.close()


@pytest.fixture
def store(db: Database, app: Scheduling) -> Iterator[PostgresSeals]:
    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        yield store_on(app, pool, ORIGIN)


def verify_live(db: Database, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": db.conninfo,
        "SLOTWISE_MODE": "test",
        "SLOTWISE_STATE_DIR": str(ROOT / ".state"),
        "SLOTWISE_AUDIT_ORIGIN": ORIGIN,
        "SLOTWISE_AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit", "verify", "--live", *KEY],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verify_offline(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit", "verify", str(directory), *KEY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_clean_log_passes_and_one_updated_event_is_named(
    db: Database, app: Scheduling, store: PostgresSeals, tmp_path: Path
) -> None:
    fill(app, 3)
    assert seal_to_end(store, EVERY_4)
    passed = verify_live(db, tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert "OK: every sealed event" in passed.stdout
    victim = [r.position for r in store.records()][4]
    with psycopg.connect(db.conninfo, autocommit=True) as conn:  # behind the application
        conn.execute(
            sql.SQL(
                "UPDATE {} SET state = state || '\\x00'::bytea WHERE notification_id = %s"
            ).format(sql.Identifier(events_table(app))),
            (victim,),
        )
    failed = verify_live(db, tmp_path)
    assert failed.returncode == 1
    assert f"first bad position: {victim}" in failed.stderr


def test_erasing_a_sealed_patient_leaves_the_log_verifying(
    db: Database, app: Scheduling, store: PostgresSeals, tmp_path: Path
) -> None:
    fill(app, 2)
    patient: UUID = patient_registers(app, name="To Be Forgotten")
    seal_to_end(store, EVERY_4)
    app.erase_patient(
        ErasePatient(patient_id=patient, reason=ErasureReason.PATIENT_REQUEST), as_staff()
    )
    seal_to_end(store, EVERY_4)
    erased = app.load(Patient, patient, "patient")  # its key destroyed: the name reads erased
    assert erased.erased
    assert "name" not in erased.details
    live = verify_live(db, tmp_path)
    assert live.returncode == 0, live.stderr
    notes: list[tuple[int, str]] = [(c.size, c.note) for c in store.checkpoints()]
    directory = tmp_path / "export"
    directory.mkdir()
    write_export(directory, ORIGIN, store.records(), store.seals(), notes)
    offline = verify_offline(directory)
    assert offline.returncode == 0, offline.stderr
    assert "OK: every sealed event" in offline.stdout
