"""The search projection run by eventsourcing's ProjectionRunner (as the worker starts it) on
real events: documents land in the PostgreSQL search tables with the position, and the
PostgreSQL backend finds them. This module works in a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import ProjectionRunner
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CheckIn, CompleteAppointment, StartAppointment
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    UpdateProvider,
)
from commands.scheduling import Scheduling
from domain.provider import Provider
from infra.postgres.database import Database
from infra.postgres.search.backend import PostgresSearch
from infra.postgres.search.writes import PostgresSearchView
from infra.postgres.tracking import Watermark
from projections.search import NoteScope, ProviderQuery, SlotQuery
from projections.search_documents import provider_document
from tests.builders import (
    META,
    T0,
    as_staff,
    book,
    create_slot,
    register_patient,
)
from tests.fakes import FixedClock
from workers.projection_worker import search_runner

TEN = T0 + timedelta(hours=2)
WAIT = 15.0


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as opened:
        yield opened


@pytest.fixture
def runner(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[ProjectionRunner[Any, Any]]:
    with ExitStack() as stack:
        running = search_runner(PostgresSearchView, store_env, scheduling_class)(stack)
        yield running
        running.view.datastore.close()  # the runner leaves its view's pool open


def rows(database: Database, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(database.conninfo) as conn:
        return conn.cursor(row_factory=dict_row).execute(query).fetchall()


def test_a_completed_visit_fills_the_search_tables_and_is_found(
    app: Scheduling,
    clock: FixedClock,
    runner: ProjectionRunner[Any, Any],
    pool: ConnectionPool[Any],
    database: Database,
) -> None:
    profile = ProviderProfile(
        name="Dr Ada Lovelace",
        time_zone="Europe/Berlin",
        specializations=["Cardiology"],
        bio="Heart health for runners.",
        latitude=52.52,
        longitude=13.405,
        insurances=["AOK"],
        fee_amount=Decimal("80.00"),
        fee_currency="EUR",
    )
    provider_id = app.register_provider(RegisterProvider(profile=profile), as_staff()).id
    patient_id = register_patient(app)
    booked_slot = create_slot(app, provider_id, TEN)
    free_slot = create_slot(app, provider_id, TEN + timedelta(hours=1))
    visit = book(app, booked_slot, patient_id).id
    clock.set(TEN - timedelta(minutes=10))
    app.check_in(CheckIn(appointment_id=visit), as_staff())
    clock.set(TEN)
    app.start(StartAppointment(appointment_id=visit), as_staff())
    clock.set(TEN + timedelta(minutes=20))
    notes = "Exercise-induced asthma; inhaler prescribed."
    app.complete(CompleteAppointment(appointment_id=visit, notes=notes), as_staff())
    renamed = ProviderProfile(name="Dr Ada King")
    app.update_provider(UpdateProvider(provider_id=provider_id, profile=renamed), as_staff())
    details = PatientDetails(name="Alan Turing", time_zone="Europe/London")
    alan = app.register_patient(RegisterPatient(details=details), as_staff())  # search ignores it
    last = alan.position

    runner.wait(last, timeout=WAIT)

    assert Watermark(pool, "search_tracking").position() == last
    (provider_row,) = rows(database, "SELECT id, version, name FROM sr_providers")
    assert (provider_row["id"], provider_row["version"], provider_row["name"]) == (
        provider_id,
        2,
        "Dr Ada King",
    )
    slot_rows = rows(database, "SELECT id, free_seats FROM sr_slots ORDER BY start_at")
    assert [(r["id"], r["free_seats"]) for r in slot_rows] == [(booked_slot, 0), (free_slot, 1)]
    search = PostgresSearch(pool)
    (hit,) = search.providers(ProviderQuery(q="cardiology"), T0).hits
    assert (hit.provider.id, hit.provider.name, hit.provider.insurances) == (
        provider_id,
        "Dr Ada King",
        ["AOK"],
    )
    assert (hit.next_free_slot, hit.free_slots) == (TEN + timedelta(hours=1), 1)
    free = search.slots(SlotQuery(start_from=T0, start_to=T0 + timedelta(days=1)), T0)
    assert [s.id for s in free.hits] == [free_slot]
    (found,) = search.notes("asthma", NoteScope(patient_id=patient_id), 10)
    assert (found.appointment_id, found.provider_id) == (visit, provider_id)
    by_provider = search.notes("asthma", NoteScope(provider_id=provider_id), 10)
    assert [n.appointment_id for n in by_provider] == [visit]
    assert search.notes("asthma", NoteScope(patient_id=alan.id), 10) == []


def test_documents_are_written_only_together_with_the_position(
    app: Scheduling, runner: ProjectionRunner[Any, Any], database: Database
) -> None:
    register_patient(app, "Ann")
    head = app.register_patient(
        RegisterPatient(details=PatientDetails(name="Bob", time_zone="UTC")), as_staff()
    ).position
    runner.wait(head, timeout=WAIT)
    stray = provider_document(
        Provider.register(uuid.uuid4(), {"name": "Dr Stray", "time_zone": "UTC"}, META)
    )

    with pytest.raises(IntegrityError):  # a position already recorded: a replayed event
        runner.view.write([stray], Tracking(Scheduling.name, head))

    assert stray.id not in {r["id"] for r in rows(database, "SELECT id FROM sr_providers")}
