"""`slotwise projections rebuild`: shadow tables built from the event store, checked, and swapped
in atomically, or only compared with the live tables (--diff).

Every test works on a copy of one template database (an event log plus read models projected
by the ordinary runner), because a rebuild renames tables under everybody's feet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner

from commands.appointments.messages import CancelAppointment, ConfirmAppointment
from commands.scheduling import Scheduling
from infra.postgres.database import Database, eventstore_env
from infra.postgres.rebuild import PROJECTIONS, Rebuild, RebuildError, Spec, rebuild
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation
from projections.analytics import AnalyticsProjection
from projections.changes import Change
from projections.scheduling import SchedulingProjection
from projections.scheduling import changes_for as scheduling_changes
from tests.builders import (
    as_staff,
    book,
    create_slot,
    register_patient,
    register_provider,
)
from tests.databases import checksums, database_of_its_own
from workers.cli import main

SCHEDULING = PROJECTIONS["scheduling"].tables


def populate(app: Scheduling) -> None:
    """A small but varied log: bookings, confirmations, cancellations (seats released)."""
    tomorrow = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    provider_id = register_provider(app)
    patients = [register_patient(app, f"Patient {n}") for n in range(3)]
    slots = [create_slot(app, provider_id, tomorrow + n * timedelta(hours=1)) for n in range(8)]
    booked = [book(app, s, patients[n % 3]).id for n, s in enumerate(slots)]
    for appointment_id in booked[:3]:
        app.confirm(ConfirmAppointment(appointment_id=appointment_id), as_staff())
    for appointment_id in booked[3:5]:
        app.cancel(CancelAppointment(appointment_id=appointment_id, reason="away"), as_staff())


@pytest.fixture(scope="module")
def template(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "rebuild_template") as db:
        env = eventstore_env(db, 2)
        app = Scheduling(env)
        populate(app)
        head = app.head_position()
        app.close()
        for projection in (SchedulingProjection, AnalyticsProjection):
            with ProjectionRunner(
                application_class=Scheduling,
                projection_class=projection,
                view_class=PostgresRowView,
                env=env,
            ) as runner:
                runner.wait(head, timeout=30)
            assert isinstance(runner.view, PostgresRowView)
            runner.view.datastore.close()  # the runner leaves its view's pool open
        yield db


@pytest.fixture
def db(pg_location: PostgresLocation, template: Database) -> Iterator[Database]:
    with database_of_its_own(pg_location, "rebuild", template) as copy:
        yield copy


@pytest.fixture
def log(db: Database) -> Iterator[Scheduling]:
    app = Scheduling(eventstore_env(db, 2))
    try:
        yield app
    finally:
        app.close()


def query(db: Database, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(statement, params).fetchall()


def index_names(db: Database, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted(
        (str(t), str(i))
        for t, i in query(
            db,
            "SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)",
            list(tables),
        )
    )


def leftovers(db: Database) -> list[str]:
    return [
        str(r[0])
        for r in query(
            db,
            "SELECT tablename FROM pg_tables WHERE tablename LIKE '%%\\_\\_shadow%%' "
            "OR tablename LIKE '%%\\_\\_old'",
        )
    ]


@pytest.mark.parametrize("name", ["scheduling", "analytics"])
def test_rebuilding_an_unchanged_projection_twice_gives_identical_tables(
    db: Database, log: Scheduling, name: str
) -> None:
    tables = PROJECTIONS[name].tables
    projected = checksums(db.conninfo, tables)
    indexes = index_names(db, tables)

    first = rebuild(db.conninfo, log, name)
    after_first = checksums(db.conninfo, tables)
    second = rebuild(db.conninfo, log, name)

    assert projected == after_first == checksums(db.conninfo, tables)
    assert first.swapped
    assert second.swapped
    assert second.position == log.head_position()
    assert index_names(db, tables) == indexes, "index names drift from rebuild to rebuild"
    assert leftovers(db) == []
    tracking = query(
        db, f"SELECT notification_id FROM {name}_tracking WHERE application_name = 'Slotwise'"
    )
    assert tracking == [(second.position,)]
    versions = query(
        db,
        "SELECT aggregate_id, version FROM projection_versions WHERE projection = %s "
        "EXCEPT SELECT originator_id, max(originator_version) FROM slotwise_events GROUP BY 1",
        name,
    )
    assert versions == []
    assert query(db, "SELECT count(*) FROM projection_versions WHERE projection = %s", name) == (
        query(db, "SELECT count(DISTINCT originator_id) FROM slotwise_events")
    )
    if name == "analytics":  # the views follow the swapped-in tables
        assert query(db, "SELECT count(*) FROM an_appointment_facts") == query(
            db, "SELECT count(*) FROM an_appointments"
        )
        assert query(db, "SELECT count(*) FROM an_slot_facts") == query(
            db, "SELECT count(*) FROM an_slots"
        )


def test_a_rebuild_swaps_in_while_queries_keep_reading_the_live_tables(
    db: Database, log: Scheduling
) -> None:
    ids = [r[0] for r in query(db, "SELECT id FROM rm_appointments")]
    stop = threading.Event()
    failures: list[str] = []
    reads = [0, 0]
    tables_seen: set[int] = set()

    def read(reader: int) -> None:
        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    row = conn.execute(
                        "SELECT count(*), to_regclass('rm_appointments')::oid "
                        "FROM rm_appointments a JOIN rm_slots s "
                        "ON s.id = a.slot_id WHERE a.id = ANY(%s)",
                        (ids,),
                    ).fetchone()
                except psycopg.Error as error:
                    failures.append(repr(error))
                    continue
                if row is None or row[0] != len(ids):
                    failures.append(f"read {row} of {len(ids)} appointments")
                else:
                    tables_seen.add(row[1])
                reads[reader] += 1

    readers = [threading.Thread(target=read, args=(n,)) for n in range(2)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(3):
            assert rebuild(db.conninfo, log, "scheduling", batch=20).swapped
    finally:
        stop.set()
        for reader in readers:
            reader.join()

    assert failures == []
    assert min(reads) > 10
    assert len(tables_seen) > 1, "no read saw the table swapped in under it"


def test_diff_reports_a_corrupted_live_row_and_leaves_live_untouched(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = query(db, "SELECT id FROM rm_appointments ORDER BY id LIMIT 1")[0][0]
    query(db, "UPDATE rm_appointments SET status = 'corrupted' WHERE id = %s RETURNING id", victim)
    corrupted = checksums(db.conninfo, SCHEDULING)
    monkeypatch.setenv("DATABASE_URL", db.conninfo)
    monkeypatch.setenv("SLOTWISE_MODE", "test")

    with pytest.raises(SystemExit) as exited:
        main(["projections", "rebuild", "scheduling", "--diff"])

    assert "1 table(s) of scheduling differ" in str(exited.value.code)
    out = capsys.readouterr().out
    assert "rm_appointments: 1 row(s) only in live, 1 only in rebuild" in out
    assert "rm_slots: 0 row(s) only in live, 0 only in rebuild" in out
    live, rebuilt = (line for line in out.splitlines() if str(victim) in line)
    assert '"status": "corrupted"' in live
    assert '"status": "corrupted"' not in rebuilt
    assert checksums(db.conninfo, SCHEDULING) == corrupted
    assert leftovers(db) == []


def test_a_rebuild_repairs_corrupted_live_rows(db: Database, log: Scheduling) -> None:
    healthy = checksums(db.conninfo, SCHEDULING)
    query(db, "UPDATE rm_appointments SET status = 'corrupted' RETURNING id")
    query(db, "DELETE FROM rm_slot_seats RETURNING slot_id")

    rebuild(db.conninfo, log, "scheduling")

    assert checksums(db.conninfo, SCHEDULING) == healthy


def test_an_interrupted_rebuild_leaves_live_untouched_and_the_next_one_starts_clean(
    db: Database, log: Scheduling
) -> None:
    healthy = checksums(db.conninfo, SCHEDULING)
    indexes = index_names(db, SCHEDULING)

    def interrupt(position: int, head: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rebuild(db.conninfo, log, "scheduling", batch=5, progress=interrupt)
    assert checksums(db.conninfo, SCHEDULING) == healthy
    # What a run killed outright leaves behind: a half-built shadow (with a stray row), its
    # versions table, and an old table from a swap whose clean-up never ran.
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE rm_slots__shadow (LIKE rm_slots INCLUDING ALL)")
        conn.execute("INSERT INTO rm_slots__shadow SELECT * FROM rm_slots LIMIT 1")
        conn.execute("UPDATE rm_slots__shadow SET status = 'stray'")
        conn.execute("CREATE TABLE rm_patients__old (LIKE rm_patients INCLUDING ALL)")
        conn.execute("CREATE TABLE scheduling__shadow_versions (aggregate_id uuid, version int)")

    assert rebuild(db.conninfo, log, "scheduling").swapped

    assert checksums(db.conninfo, SCHEDULING) == healthy
    assert index_names(db, SCHEDULING) == indexes
    assert leftovers(db) == []


def test_a_rebuild_that_fails_on_an_event_names_it_and_leaves_live_untouched(
    db: Database, log: Scheduling
) -> None:
    healthy = checksums(db.conninfo, SCHEDULING)

    def broken(event: Any) -> list[Change]:
        if type(event).__qualname__ == "Appointment.Cancelled":
            raise KeyError("cancel_reason")
        return scheduling_changes(event)

    spec = Spec("scheduling", SCHEDULING, broken)
    with pytest.raises(RebuildError, match=r"at position \d+ \(.*Appointment.Cancelled\).*rerun"):
        Rebuild(db.conninfo, log, spec, batch=7).run()

    assert checksums(db.conninfo, SCHEDULING) == healthy
    assert leftovers(db) == []
