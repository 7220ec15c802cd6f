"""Erasure on PostgreSQL, every store following: the event store's rows hold no personal value
in clear (the bytes are grepped); after a patient's erasure the read models, analytics, both
search backends (PostgreSQL's tables and the recording OpenSearch cluster) and fresh rebuilds of
each hold no personal value of theirs, while another patient's stay as they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg import sql

from commands.appointments.messages import (
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    StartAppointment,
)
from commands.directory.messages import ErasePatient, PatientDetails, RegisterPatient
from commands.scheduling import Scheduling
from domain.patient import ErasureReason
from domain.personal import ERASED
from infra.opensearch.index import OpenSearchBackend
from infra.opensearch.sink import opensearch_search_view
from infra.postgres.database import Database, events_table
from infra.postgres.rebuild import rebuild
from infra.postgres.rows import PostgresRowView
from infra.postgres.search.writes import PostgresSearchView
from infra.postgres.server import PostgresLocation
from projections import analytics, scheduling
from projections.analytics import AnalyticsProjection
from projections.scheduling import SchedulingProjection
from tests.builders import TEN, as_staff, book, create_slot, register_provider
from tests.fakes import FixedClock
from tests.integration.conftest import isolated_database
from tests.integration.test_search_projection_opensearch import fake_backend
from tests.opensearch_cluster import FakeCluster
from workers.projection_worker import search_runner
from workers.search_rebuild import rebuild_search

WAIT = 20.0
SEARCH_TABLES = ("sr_providers", "sr_slots", "sr_notes")
READ_TABLES = (*scheduling.TABLES, *analytics.TABLES, *SEARCH_TABLES)

# Each value is found nowhere else in the test, so finding it anywhere is a leak.
ERASED_PATIENT = {
    "name": "Zoltan Erasmus-Quillfeather",
    "phone": "+4930555000111",
    "email": "zoltan.quill@example.org",
    "reason": "sudden vertigo episodes",
    "cancel_reason": "stuck behind a tractor",
    "notes": "vestibular neuritis suspected",
    "private_notes": "anxious about driving",
}
KEPT_PATIENT = {
    "name": "Beatrix Keepington",
    "phone": "+4930555000222",
    "email": "beatrix.keep@example.org",
    "reason": "annual cardiology review",
    "notes": "sinus rhythm, no murmur",
}


@dataclass
class Story:
    erased: UUID
    kept: UUID
    erased_visits: list[UUID]
    kept_visit: UUID


def register(app: Scheduling, values: dict[str, str]) -> UUID:
    details = PatientDetails(
        name=values["name"], time_zone="Europe/Berlin", phone=values["phone"], email=values["email"]
    )
    return app.register_patient(RegisterPatient(details=details), as_staff()).id


def visit(
    app: Scheduling, clock: FixedClock, slot: UUID, patient: UUID, values: dict[str, str]
) -> UUID:
    appointment = book(app, slot, patient, reason=values["reason"], symptoms=["dizzy spells"]).id
    clock.set(TEN)
    app.check_in(CheckIn(appointment_id=appointment), as_staff())
    app.start(StartAppointment(appointment_id=appointment), as_staff())
    done = CompleteAppointment(
        appointment_id=appointment,
        notes=values["notes"],
        private_notes=values.get("private_notes", ""),
        vitals={"bp": "131/87"},
    )
    app.complete(done, as_staff())
    return appointment


@pytest.fixture(scope="module")
def story(store_env: dict[str, str], scheduling_class: type[Scheduling]) -> Story:
    clock = FixedClock(TEN.replace(hour=6))
    app = scheduling_class(store_env, clock=clock)
    try:
        provider = register_provider(app)
        erased, kept = register(app, ERASED_PATIENT), register(app, KEPT_PATIENT)
        shared = create_slot(app, provider, TEN, capacity=2)
        seen = visit(app, clock, shared, erased, ERASED_PATIENT)
        clock.set(TEN.replace(hour=6))
        kept_visit = visit(app, clock, shared, kept, KEPT_PATIENT)
        later = create_slot(app, provider, TEN.replace(hour=15))
        cancelled = book(app, later, erased, reason=ERASED_PATIENT["reason"]).id
        cancel = CancelAppointment(appointment_id=cancelled, reason=ERASED_PATIENT["cancel_reason"])
        app.cancel(cancel, as_staff())
        return Story(erased, kept, [seen, cancelled], kept_visit)
    finally:
        app.close()


def dump(database: Database, tables: tuple[str, ...]) -> str:
    """Every row of `tables` as JSON text."""
    with psycopg.connect(database.conninfo) as conn:
        rows = [
            str(row[0])
            for table in tables
            for row in conn.execute(
                sql.SQL("SELECT row_to_json(t)::text FROM {} t").format(sql.Identifier(table))
            )
        ]
    return "\n".join(rows)


def one(database: Database, query: str, *params: Any) -> tuple[Any, ...]:
    with psycopg.connect(database.conninfo) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row


def leaked(text: str, values: dict[str, str]) -> list[str]:
    return [field for field, value in values.items() if value in text]


def test_the_event_stores_rows_hold_no_personal_value_in_clear(
    story: Story, database: Database, other_app: Scheduling
) -> None:
    table = events_table(other_app)
    with psycopg.connect(database.conninfo) as conn:
        raw = b"".join(
            bytes(row[0])
            for row in conn.execute(sql.SQL("SELECT state FROM {}").format(sql.Identifier(table)))
        )
    assert raw  # the log is there
    for values in (ERASED_PATIENT, KEPT_PATIENT):
        assert [f for f, v in values.items() if v.encode() in raw] == []
    assert b"dizzy spells" not in raw
    assert b"131/87" not in raw
    assert b"Europe/Berlin" in raw  # codes stay in clear


@pytest.fixture(scope="module")
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture(scope="module")
def backend(cluster: FakeCluster) -> OpenSearchBackend:
    return fake_backend(cluster)


@pytest.fixture(scope="module")
def projected(
    story: Story,
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
    backend: OpenSearchBackend,
    pg_location: PostgresLocation,
) -> Iterator[list[ProjectionRunner[Any, Any]]]:
    """Every projection running: the read models, analytics, PostgreSQL search, and search
    into the recording OpenSearch cluster (its position kept in a database of its own, since
    both search sinks track the one projection name)."""
    with ExitStack() as stack:
        runners: list[ProjectionRunner[Any, Any]] = [
            stack.enter_context(
                ProjectionRunner(
                    application_class=scheduling_class,
                    projection_class=projection,
                    view_class=PostgresRowView,
                    env=store_env,
                )
            )
            for projection in (SchedulingProjection, AnalyticsProjection)
        ]
        runners.append(search_runner(PostgresSearchView, store_env, scheduling_class)(stack))
        positions = stack.enter_context(isolated_database(pg_location))
        opensearch_env = {**store_env, "SEARCH_POSTGRES_DBNAME": positions.dbname}
        view = opensearch_search_view(backend)
        runners.append(search_runner(view, opensearch_env, scheduling_class)(stack))
        yield runners
        for runner in runners:
            runner.view.datastore.close()  # runners leave their views' pools open


def catch_up(runners: list[ProjectionRunner[Any, Any]], app: Scheduling) -> None:
    head = app.head_position()
    for runner in runners:
        runner.wait(head, timeout=WAIT)


def notes_in(cluster: FakeCluster, backend: OpenSearchBackend) -> str:
    return "\n".join(
        str(source) for _, source in cluster.documents(backend.names.alias("notes")).values()
    )


@pytest.fixture(scope="module")
def erased(
    projected: list[ProjectionRunner[Any, Any]],
    story: Story,
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
    database: Database,
    cluster: FakeCluster,
    backend: OpenSearchBackend,
) -> Story:
    """Everything projected with both patients readable, then the one erased and projected."""
    app = scheduling_class(store_env)
    try:
        catch_up(projected, app)
        before = dump(database, READ_TABLES)
        assert leaked(before, ERASED_PATIENT) == ["name", "reason", "cancel_reason", "notes"]
        assert ERASED_PATIENT["notes"] in notes_in(cluster, backend)

        erase = ErasePatient(patient_id=story.erased, reason=ErasureReason.PATIENT_REQUEST)
        app.erase_patient(erase, as_staff())
        catch_up(projected, app)
    finally:
        app.close()
    return story


def test_after_erasure_no_read_model_analytics_or_search_table_holds_their_values(
    erased: Story, database: Database
) -> None:
    everything = dump(database, READ_TABLES)
    assert leaked(everything, ERASED_PATIENT) == []
    assert leaked(everything, KEPT_PATIENT) == ["name", "reason", "notes"]  # theirs stay

    assert one(database, "SELECT name FROM rm_patients WHERE id = %s", erased.erased) == (ERASED,)
    for appointment in erased.erased_visits:
        row = one(database, "SELECT reason FROM rm_appointments WHERE id = %s", appointment)
        assert row == (ERASED,)
    cancelled = erased.erased_visits[1]
    query = "SELECT cancel_reason FROM rm_appointments WHERE id = %s"
    assert one(database, query, cancelled) == (ERASED,)
    assert one(database, "SELECT count(*) FROM sr_notes WHERE patient_id = %s", erased.erased) == (
        0,
    )
    # Analytics keep the visits, so counts stay right; it never held a personal value.
    count = "SELECT count(*) FROM an_appointments WHERE patient_id = %s"
    assert one(database, count, erased.erased) == (2,)


def test_after_erasure_the_opensearch_notes_index_holds_none_of_theirs(
    erased: Story, cluster: FakeCluster, backend: OpenSearchBackend
) -> None:
    notes = notes_in(cluster, backend)
    assert leaked(notes, ERASED_PATIENT) == []
    assert str(erased.erased) not in notes
    assert KEPT_PATIENT["notes"] in notes
    deletes = [r for r in cluster.requests if r.path.endswith("/_delete_by_query")]
    assert len(deletes) == 1
    assert deletes[0].body == {"query": {"term": {"patient_id": str(erased.erased)}}}


@pytest.mark.parametrize("projection", ["scheduling", "analytics"])
def test_a_rebuild_after_erasure_gives_what_the_live_tables_hold(
    erased: Story, database: Database, other_app: Scheduling, projection: str
) -> None:
    outcome = rebuild(database.conninfo, other_app, projection, diff=True)
    assert [d.table for d in outcome.diffs if d.differs] == []


def test_a_fresh_opensearch_rebuild_writes_no_note_of_theirs(
    erased: Story, other_app: Scheduling
) -> None:
    cluster = FakeCluster()
    backend = fake_backend(cluster)
    counts = rebuild_search(other_app, backend, lambda: TEN)
    assert counts["notes"] == 1  # the other patient's
    notes = notes_in(cluster, backend)
    assert leaked(notes, ERASED_PATIENT) == []
    assert KEPT_PATIENT["notes"] in notes
