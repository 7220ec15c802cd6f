"""The directory queries the FHIR facade reads (PostgresDirectoryQueries) over rows the real
scheduling projection wrote to PostgreSQL: providers, patients, every slot with its FHIR
status computed in SQL as domain.fhir_status computes it, filters, totals and pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.directory.messages import ProviderProfile, RegisterProvider
from commands.scheduling import Scheduling
from domain.fhir_status import SLOT_STATUSES, slot_fhir_status
from infra.postgres.database import Database
from infra.postgres.read_models.directory import PostgresDirectoryQueries
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from projections.changes import RowView
from projections.directory import DirectoryFilter, SlotSearch
from projections.queries import AppointmentFilter
from tests.builders import (
    T0,
    TEN,
    as_staff,
    block,
    book,
    create_slot,
    hold,
    register_patient,
)
from tests.integration.test_projection import projection_runner

HOUR = timedelta(hours=1)
WAIT = 10.0


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as opened:
        yield opened


@pytest.fixture
def runner(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[ProjectionRunner[Scheduling, RowView]]:
    with projection_runner(scheduling_class, store_env) as running:
        yield running


def test_providers_patients_and_slots_read_back_with_status_filters_and_totals(
    app: Scheduling, runner: ProjectionRunner[Scheduling, RowView], pool: ConnectionPool
) -> None:
    profile = ProviderProfile(
        name="Dr Zelda Cardio",
        time_zone="Europe/Berlin",
        specializations=["cardiology"],
        address="Herzweg 1, Berlin",
    )
    cardio = app.register_provider(RegisterProvider(profile=profile), as_staff()).id
    plain = app.register_provider(
        RegisterProvider(profile=ProviderProfile(name="Dr Zelda Plain", time_zone="UTC")),
        as_staff(),
    ).id
    ann, bob = register_patient(app, "Zelda Ann"), register_patient(app, "Zelda Bob")
    free = create_slot(app, cardio, TEN, capacity=2, location="Berlin")
    busy = create_slot(app, cardio, TEN + HOUR, appointment_types=["video"])
    tentative = create_slot(app, cardio, TEN + 2 * HOUR)
    blocked = create_slot(app, plain, TEN + 3 * HOUR)
    book(app, free, ann)
    book(app, busy, ann, appointment_type="video")
    hold(app, tentative, bob, minutes=30)
    block(app, plain, TEN + 3 * HOUR, TEN + 4 * HOUR)
    last = book(app, create_slot(app, plain, TEN + 5 * HOUR), bob)
    runner.wait(last.position, timeout=WAIT)
    directory = PostgresDirectoryQueries(pool)

    found = directory.provider(cardio)
    assert found is not None
    assert (found.name, found.specializations, found.address) == (
        "Dr Zelda Cardio",
        ["cardiology"],
        "Herzweg 1, Berlin",
    )
    assert (found.first_slot_start, found.last_slot_end) == (
        TEN,
        TEN + 2 * HOUR + timedelta(minutes=30),
    )
    assert found.version == 1
    assert found.updated_at is not None
    zeldas = directory.providers(DirectoryFilter(name="zelda", limit=1))
    assert (zeldas.total, [p.id for p in zeldas.items], zeldas.next_offset) == (2, [cardio], 1)
    by_specialty = directory.providers(DirectoryFilter(specialty="cardiology"))
    assert [p.id for p in by_specialty.items] == [cardio]
    assert directory.provider(ann) is None

    patient = directory.patient(ann)
    assert patient is not None
    assert patient.name == "Zelda Ann"
    both = directory.patients(DirectoryFilter(ids=(ann, bob, cardio)))
    assert (both.total, {p.id for p in both.items}) == (2, {ann, bob})

    now = T0
    everything = directory.slots(SlotSearch(start_from=TEN, limit=100), now)
    statuses = {
        s.id: slot_fhir_status(s.status, s.free_seats, s.held_seats) for s in everything.items
    }
    assert statuses[free] == "free"
    assert statuses[busy] == "busy"
    assert statuses[tentative] == "busy-tentative"
    assert statuses[blocked] == "busy-unavailable"
    for status in SLOT_STATUSES:  # SQL picks the same slots as the Python mapping names
        picked = directory.slots(SlotSearch(fhir_statuses=(status,), limit=100), now)
        assert {s.id for s in picked.items} == {i for i, s in statuses.items() if s == status}
        assert picked.total == len(picked.items)
    videos = directory.slots(SlotSearch(appointment_type="video"), now)
    assert [s.id for s in videos.items] == [busy]
    bookable = SlotSearch(fhir_statuses=("free",), specialty="cardiology", location="Berlin")
    assert [s.id for s in directory.slots(bookable, now).items] == [free]
    first = directory.slots(SlotSearch(provider_id=cardio, limit=2), now)
    assert (first.total, len(first.items), first.next_offset) == (3, 2, 2)
    one = directory.slot(tentative, now)
    assert one is not None
    assert one.held_seats == 1
    # After the hold has run out, its seat is free again.
    later = directory.slot(tentative, now + timedelta(hours=1))
    assert later is not None
    assert later.free_seats == 1

    queries = PostgresSchedulingQueries(pool)
    anns = AppointmentFilter(patient_id=ann, limit=1)
    assert directory.appointment_total(anns) == 2
    assert len(queries.appointments(anns, now).items) == 1
    listed = queries.appointments(AppointmentFilter(patient_id=bob), now).items
    assert all(a.updated_at is not None for a in listed)
