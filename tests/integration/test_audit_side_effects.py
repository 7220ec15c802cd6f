"""Explain's side effects on PostgreSQL: the video rooms the room policy opened, moved and
closed because of a request are listed with that request (booking → opened, reschedule →
moved, cancellation → closed with its reason), each with its sealed event; a confirmation
in between takes none of them; and another capability adds its side effects with one source."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    ConfirmAppointment,
    RescheduleAppointment,
)
from commands.context import CommandContext
from commands.telehealth.messages import CloseVideoRoom, MoveVideoRoom, OpenVideoRoom
from domain.actor import Actor, Role
from domain.video_visit import room_id
from infra.audit.wiring import seals
from infra.postgres.audit_trail import PostgresAuditTrail
from infra.postgres.database import Database, events_table, eventstore_env
from infra.postgres.server import PostgresLocation
from projections.audit.effects import EFFECT_SOURCES, EffectLog
from projections.audit.sealing import CheckpointPolicy
from projections.audit.trail import AuditedEvent, SideEffect
from tests.audit_support import api_settings, seal_to_end
from tests.builders import create_slot, patient_registers, register_provider
from tests.databases import database_of_its_own
from tests.keys import keyed_scheduling

EVERY_5 = CheckpointPolicy(every_events=5, every_seconds=0)


@dataclass(frozen=True)
class Requests:
    appointment: uuid.UUID
    booking: uuid.UUID
    confirmation: uuid.UUID
    reschedule: uuid.UUID
    cancellation: uuid.UUID
    in_person_booking: uuid.UUID


def staff(correlation: uuid.UUID) -> CommandContext:
    return CommandContext(Actor(uuid.uuid4(), Role.STAFF), correlation_id=correlation)


def policy() -> CommandContext:
    """The room policy acts under a correlation id of its own."""
    return CommandContext(Actor(uuid.uuid4(), Role.SYSTEM))


@pytest.fixture(scope="module")
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "audit_side_effects") as fresh:
        yield fresh


@pytest.fixture(scope="module")
def trail(
    db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PostgresAuditTrail, Requests, str]]:
    settings = api_settings(db, tmp_path_factory.mktemp("state"))
    with keyed_scheduling(db) as keyed:
        app = keyed(eventstore_env(db, 2))
        provider = register_provider(app)
        patient = patient_registers(app)
        start = (datetime.now(UTC) + timedelta(minutes=20)).replace(second=0, microsecond=0)
        types = ["video", "in_person"]
        first = create_slot(app, provider, start, appointment_types=types)
        later = create_slot(app, provider, start + timedelta(hours=3), appointment_types=types)
        other = create_slot(app, provider, start + timedelta(hours=5), appointment_types=types)
        ids = {name: uuid.uuid4() for name in ("book", "check", "move", "cancel", "walk")}
        booking = BookAppointment(slot_id=first, patient_id=patient, appointment_type="video")
        visit = app.book(booking, staff(ids["book"])).id
        # Confirmed before the room opens: the booking made the room due, not the confirmation.
        app.confirm(ConfirmAppointment(appointment_id=visit), staff(ids["check"]))
        app.open_video_room(OpenVideoRoom(appointment_id=visit, provider="loopback"), policy())
        moved = RescheduleAppointment(appointment_id=visit, new_slot_id=later)
        app.reschedule(moved, staff(ids["move"]))
        app.move_video_room(MoveVideoRoom(appointment_id=visit), policy())
        app.cancel(CancelAppointment(appointment_id=visit, reason="x"), staff(ids["cancel"]))
        closing = CloseVideoRoom(appointment_id=visit, reason="cancelled")
        app.close_video_room(closing, policy())
        walk_in = BookAppointment(slot_id=other, patient_id=patient, appointment_type="in_person")
        app.book(walk_in, staff(ids["walk"]))
        with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
            seal_to_end(seals(settings, app, pool), EVERY_5)
            requests = Requests(
                visit, ids["book"], ids["check"], ids["move"], ids["cancel"], ids["walk"]
            )
            found = PostgresAuditTrail(
                pool, settings.audit_origin, settings.audit_access_origin, [], events_table(app)
            )
            try:
                yield found, requests, events_table(app)
            finally:
                app.close()


def effects(trail: PostgresAuditTrail, correlation: uuid.UUID) -> list[tuple[str, str | None]]:
    explained = trail.explain(correlation)
    assert explained is not None
    return [(e.kind, e.detail) for e in explained.side_effects]


def test_each_room_change_is_listed_with_the_request_that_caused_it(
    trail: tuple[PostgresAuditTrail, Requests, str],
) -> None:
    found, requests, _ = trail
    assert effects(found, requests.booking) == [("video_room.opened", None)]
    assert effects(found, requests.confirmation) == []
    assert effects(found, requests.reschedule) == [("video_room.moved", None)]
    assert effects(found, requests.cancellation) == [("video_room.closed", "cancelled")]
    assert effects(found, requests.in_person_booking) == []


def test_a_side_effect_names_its_visit_room_and_sealed_event(
    trail: tuple[PostgresAuditTrail, Requests, str],
) -> None:
    found, requests, _ = trail
    explained = found.explain(requests.cancellation)
    assert explained is not None
    (closed,) = explained.side_effects
    assert closed.subject_id == requests.appointment
    assert closed.effect_id == room_id(requests.appointment)
    assert closed.position is not None
    assert closed.position > max(e.position for e in explained.events)
    assert closed.seal is not None
    assert closed.seal.checkpoint_size is not None
    assert closed.at is not None


class Deliveries:
    """What a notifications capability would add: one source listing its deliveries."""

    def effects(
        self, correlation_id: uuid.UUID, events: Sequence[AuditedEvent], log: EffectLog
    ) -> list[SideEffect]:
        return [
            SideEffect(
                kind="notification.delivered",
                subject_id=event.aggregate_id,
                effect_id=uuid.uuid5(event.aggregate_id, "sms"),
                at=None,
                position=None,
                detail="sms",
                seal=None,
            )
            for event in events
            if event.event_type.endswith(":Appointment.Cancelled")
        ]


def test_another_capability_adds_its_side_effects_with_one_source(
    trail: tuple[PostgresAuditTrail, Requests, str], db: Database
) -> None:
    _, requests, table = trail
    with ConnectionPool(db.conninfo, min_size=1, max_size=1) as pool:
        extended = PostgresAuditTrail(
            pool,
            "slotwise/event-log",
            "slotwise/access-log",
            [],
            table,
            effect_sources=(*EFFECT_SOURCES, Deliveries()),
        )
        kinds: Any = effects(extended, requests.cancellation)
    assert kinds == [("video_room.closed", "cancelled"), ("notification.delivered", "sms")]
