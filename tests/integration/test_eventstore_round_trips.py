"""The booking path on the real event store (infra/postgres/eventstore.py, commands/prefetch.py):
a command reads the aggregates it names in one statement, and connections cut under the pool
(no ping on checkout any more) are replaced without the caller seeing an error."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from commands.appointments.messages import BookAppointment
from commands.scheduling import Scheduling
from domain.appointment import Appointment
from infra.postgres.database import Database
from tests.builders import (
    TEN,
    as_staff,
    book,
    create_slot,
    register_patient,
    register_provider,
)


def counted(app: Scheduling, *methods: str) -> Counter[str]:
    """Count calls of the recorder's `methods` on this application from now on."""
    calls: Counter[str] = Counter()
    recorder = app.recorder

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return method(*args, **kwargs)

        return counting

    for name in methods:
        setattr(recorder, name, wrap(name, getattr(recorder, name)))
    return calls


READS = ("select_events", "select_events_of")


def test_a_booking_reads_every_aggregate_it_names_in_one_statement(app: Scheduling) -> None:
    slot = create_slot(app, register_provider(app))
    patient = register_patient(app)
    calls = counted(app, *READS)
    command = BookAppointment(slot_id=slot, patient_id=patient)
    booked = app.book(command, as_staff(key="first"))
    # Slot, patient and the idempotency record in one statement; what no field names but the
    # slot decides (the provider and fee schedule for the fee at booking time, the agenda day) in
    # one more.
    assert calls == {"select_events_of": 2}
    assert app.load(Appointment, booked.id, "appointment").patient_id == patient


def test_a_repeated_key_is_answered_from_the_one_read(app: Scheduling) -> None:
    slot = create_slot(app, register_provider(app), TEN + timedelta(hours=1))
    patient = register_patient(app)
    command = BookAppointment(slot_id=slot, patient_id=patient)
    first = app.book(command, as_staff(key="again"))
    head = app.head_position()
    calls = counted(app, *READS)
    again = app.book(command, as_staff(key="again"))
    assert again.replayed
    assert again.id == first.id
    assert calls == {"select_events_of": 1}
    assert app.head_position() == head


@pytest.mark.timeout(60)
def test_connections_cut_under_the_pool_are_replaced_without_an_error(
    app: Scheduling, other_app: Scheduling, database: Database
) -> None:
    provider = register_provider(app)
    first = book(app, create_slot(app, provider, TEN + timedelta(hours=2)), register_patient(app))
    slot = create_slot(app, provider, TEN + timedelta(hours=3))
    patient = register_patient(app)
    # Every connection of this database but ours is cut, as a server restart cuts them: the
    # application's pool holds them idle, and no ping will notice before the next use.
    with psycopg.connect(database.conninfo, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert cut is not None
    assert cut[0] > 0
    # (Only the event store's pool is under test: the booking touches no other.)
    second = book(app, slot, patient)
    assert second.position > first.position
    assert other_app.load(Appointment, second.id, "appointment").slot_id == slot
