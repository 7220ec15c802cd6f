"""Read audit on PostgreSQL through the real API (create_app's own wiring, served by uvicorn
in this process): reads from 16 threads at once each leave exactly one access record with the
right patient, committed before the answer; the records are append-only, sealed like the event
log, and an UPDATE of one record's bytes is named by its position by the verifier."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from domain.actor import Role
from infra.crypto.note import NoteVerifiers
from infra.postgres.access import ACCESS_TABLE
from infra.postgres.database import Database, eventstore_env
from infra.postgres.seals import PostgresSeals
from infra.postgres.server import PostgresLocation
from projections.audit.access import AccessRecord
from projections.audit.sealing import CheckpointPolicy
from projections.audit.verify import verify
from tests.audit_support import SIGNER, api_settings, fill, seal_to_end, serving
from tests.conftest import auth, free_port
from tests.databases import database_of_its_own, project_live
from tests.keys import keyed_scheduling

ORIGIN = "slotwise.test/access-log"
EVERY_10 = CheckpointPolicy(every_events=10, every_seconds=3600)


@pytest.fixture(scope="module")
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "read_audit") as fresh:
        yield fresh


@pytest.fixture(scope="module")
def booked(db: Database) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(appointment id, patient id) of a few bookings, projected into the read model."""
    with keyed_scheduling(db) as keyed:
        app: Scheduling = keyed(eventstore_env(db, 2))
        try:
            fill(app, 4)
            project_live(eventstore_env(db, 2), app.head_position(), keyed)
        finally:
            app.close()
    with psycopg.connect(db.conninfo) as conn:
        rows = conn.execute("SELECT id, patient_id FROM rm_appointments").fetchall()
    return [(r[0], r[1]) for r in rows]


@pytest.fixture(scope="module")
def api(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = api_settings(db, tmp_path_factory.mktemp("state"))
    with serving(settings, free_port()) as url:
        yield url


def records(db: Database) -> list[tuple[int, AccessRecord]]:
    with psycopg.connect(db.conninfo) as conn:
        rows = conn.execute(
            "SELECT notification_id, state FROM audit_access ORDER BY notification_id"
        ).fetchall()
    return [(int(r[0]), AccessRecord.from_state(bytes(r[1]))) for r in rows]


def test_concurrent_reads_each_leave_one_record_committed_before_the_answer(
    db: Database, booked: list[tuple[uuid.UUID, uuid.UUID]], api: str
) -> None:
    staff = uuid.uuid4()
    outsider = uuid.uuid4()

    def read(n: int) -> tuple[str, int, uuid.UUID]:
        appointment, patient = booked[n % len(booked)]
        correlation = str(uuid.uuid4())
        who = auth(Role.PATIENT, outsider) if n % 5 == 0 else auth(Role.STAFF, staff)
        headers = {**who, "X-Correlation-ID": correlation, "X-Purpose-Of-Use": "TREAT"}
        answer = httpx.get(f"{api}/v1/appointments/{appointment}", headers=headers, timeout=30)
        # The record is committed before the answer: it is there the moment we get it.
        with psycopg.connect(db.conninfo) as conn:
            found = conn.execute(
                "SELECT count(*) FROM audit_access WHERE convert_from(state, 'UTF8') LIKE %s",
                (f"%{correlation}%",),
            ).fetchone()
        assert found is not None
        assert found[0] == 1
        return correlation, answer.status_code, patient

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(read, range(160)))
    by_correlation = {r.correlation_id: r for _, r in records(db)}
    assert {status for _, status, _ in answers} == {200, 404}
    for correlation, status, patient in answers:
        record = by_correlation[correlation]
        assert record.outcome == status
        assert record.patient_ids == [patient]
        assert record.actor_id == (staff if status == 200 else outsider)
        assert record.purpose_of_use == "TREAT"


def test_access_records_cannot_be_updated_or_deleted_through_the_table(
    db: Database, booked: list[tuple[uuid.UUID, uuid.UUID]], api: str
) -> None:
    appointment, _ = booked[0]
    assert httpx.get(f"{api}/v1/appointments/{appointment}", headers=auth(Role.STAFF)).is_success
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        for statement in ("UPDATE audit_access SET outcome = 200", "DELETE FROM audit_access"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)


def test_sealed_access_records_verify_and_one_changed_record_is_named(
    db: Database, booked: list[tuple[uuid.UUID, uuid.UUID]], api: str, tmp_path: Path
) -> None:
    for appointment, _ in booked:
        httpx.get(f"{api}/v1/appointments/{appointment}", headers=auth(Role.STAFF))
    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        store = PostgresSeals(pool, ACCESS_TABLE, ORIGIN)
        assert seal_to_end(store, EVERY_10)
        trusted = NoteVerifiers([SIGNER.verifier()])

        def report() -> Any:
            notes = [(str(c.size), c.note) for c in store.checkpoints()]
            return verify(store.records(), store.seals(), notes, trusted, origin=ORIGIN)

        assert report().ok
        victim = records(db)[7][0]
        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            # What a superuser could do: drop the guard, then rewrite a record.
            conn.execute("ALTER TABLE audit_access DISABLE TRIGGER audit_access_append_only")
            conn.execute(
                # One byte more (a space after the JSON): still a record, no longer the one sealed.
                "UPDATE audit_access SET state = state || '\\x20'::bytea "
                "WHERE notification_id = %s",
                (victim,),
            )
            conn.execute("ALTER TABLE audit_access ENABLE TRIGGER audit_access_append_only")
        tampered = report()
    assert not tampered.ok
    assert tampered.first_bad_position == victim
    assert tampered.findings[0].kind == "changed"
