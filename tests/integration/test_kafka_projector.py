"""The Kafka-fed projection on PostgreSQL, with deliveries scripted by the test: duplicates,
version gaps, events Kafka never delivers, and poison events."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import BookAppointment, CancelAppointment
from commands.scheduling import Scheduling
from infra.postgres.database import Database, eventstore_env
from infra.postgres.projection_state import PostgresProjectionState
from infra.postgres.server import PostgresLocation
from projections.integration import Catalog
from projections.scheduling import changes_for
from tests.builders import (
    T0,
    as_patient,
    as_staff,
    create_slot,
    register_patient,
    register_provider,
)
from tests.fakes import FixedClock, ScriptedDeliveries
from tests.integration.conftest import isolated_database
from workers.kafka_projection import KafkaProjector, PoisonEventError


@pytest.fixture
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with isolated_database(pg_location) as database:
        yield database


@pytest.fixture
def app(db: Database, clock: FixedClock) -> Iterator[Scheduling]:
    scheduling = Scheduling(eventstore_env(db, 2), clock=clock)
    yield scheduling
    scheduling.close()


@pytest.fixture
def state(db: Database) -> Iterator[PostgresProjectionState]:
    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        yield PostgresProjectionState(pool, "scheduling")


def scenario(app: Scheduling) -> tuple[UUID, UUID]:
    """A booking that is then cancelled; returns (appointment id, slot id)."""
    provider_id = register_provider(app)
    patient_id = register_patient(app)
    slot_id = create_slot(app, provider_id, T0 + timedelta(days=3))
    booked = app.book(BookAppointment(slot_id=slot_id), as_patient(patient_id)).id
    app.cancel(CancelAppointment(appointment_id=booked, reason="ill"), as_staff())
    return booked, slot_id


def log_of(app: Scheduling) -> list[tuple[int, Any]]:
    return [
        (n.id, app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(start=1, limit=10_000)
    ]


def deliveries(
    log: list[tuple[int, Any]], skip: AbstractSet[int] = frozenset()
) -> ScriptedDeliveries:
    catalog = Catalog()
    scripted = ScriptedDeliveries()
    for offset, (position, event) in enumerate(log):
        if position in skip:
            continue
        message = catalog.encode(event, position)
        scripted.push(
            catalog.topic_for(message.event_type), 0, offset, msgspec.json.encode(message)
        )
    return scripted


def rows(db: Database, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(query).fetchall()


def test_every_event_applies_once_even_when_delivered_twice(
    app: Scheduling, state: PostgresProjectionState, db: Database
) -> None:
    appointment_id, _ = scenario(app)
    log = log_of(app)
    projector = KafkaProjector(app, changes_for, state)

    first = deliveries(log)
    projector.handle(first.poll(1000, 0))
    again = deliveries(log)
    watermark = projector.handle(again.poll(1000, 0))

    assert watermark == log[-1][0]
    assert projector.counters.duplicates == len(log)
    assert rows(db, f"SELECT status FROM rm_appointments WHERE id = '{appointment_id}'") == [
        ("cancelled",)
    ]
    assert max(state.stored_offsets().values()) == len(log)


def test_a_version_gap_is_filled_from_the_event_store(
    app: Scheduling, state: PostgresProjectionState, db: Database
) -> None:
    _, slot_id = scenario(app)
    log = log_of(app)
    seat_taken = next(
        p for p, e in log if type(e).__qualname__ == "Slot.SeatTaken" and e.originator_id == slot_id
    )
    projector = KafkaProjector(app, changes_for, state)

    watermark = projector.handle(deliveries(log, skip={seat_taken}).poll(1000, 0))

    assert projector.counters.gap_filled == 1
    assert watermark == log[-1][0]
    assert rows(db, f"SELECT count(*) FROM rm_slot_seats WHERE slot_id = '{slot_id}'") == [(0,)]
    versions = state.versions({slot_id})
    assert versions[slot_id] == 3


def test_an_event_kafka_never_delivers_is_caught_up_from_the_event_store(
    app: Scheduling, state: PostgresProjectionState, db: Database
) -> None:
    appointment_id, _ = scenario(app)
    log = log_of(app)
    lost = {p for p, e in log if e.originator_id == appointment_id}
    projector = KafkaProjector(app, changes_for, state, catch_up_after=0.0)

    stalled = projector.handle(deliveries(log, skip=lost).poll(1000, 0))
    assert stalled < min(lost)
    caught_up = projector.handle([])

    assert caught_up == log[-1][0]
    assert projector.counters.caught_up >= len(lost)
    assert rows(db, f"SELECT status FROM rm_appointments WHERE id = '{appointment_id}'") == [
        ("cancelled",)
    ]


def test_a_poison_event_stops_the_projection_before_it_and_is_dead_lettered(
    app: Scheduling, state: PostgresProjectionState, db: Database
) -> None:
    appointment_id, _ = scenario(app)
    log = log_of(app)
    poison = next(p for p, e in log if type(e).__qualname__ == "Appointment.Scheduled")

    def fragile(event: Any) -> Any:
        if type(event).__qualname__ == "Appointment.Scheduled":
            raise ValueError("cannot project this")
        return changes_for(event)

    stopping = KafkaProjector(app, fragile, state, max_attempts=2)
    with pytest.raises(PoisonEventError, match=r"Appointment\.Scheduled"):
        stopping.handle(deliveries(log).poll(1000, 0))

    assert state.watermark() < poison
    letters = rows(db, "SELECT position, skipped, attempts, error FROM projection_dead_letters")
    assert [(p, s) for p, s, _, _ in letters] == [(poison, False)]
    assert "cannot project this" in letters[0][3]
    assert rows(db, "SELECT last_error FROM projection_status")[0][0] is not None
    assert rows(db, f"SELECT count(*) FROM rm_appointments WHERE id = '{appointment_id}'") == [(0,)]

    skipping = KafkaProjector(app, fragile, state, max_attempts=2, skip_poison=True)
    watermark = skipping.handle(deliveries(log).poll(1000, 0))

    assert watermark == log[-1][0]
    assert skipping.counters.dead_lettered == 1
    assert rows(db, "SELECT skipped FROM projection_dead_letters") == [(True,)]
