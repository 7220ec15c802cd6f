"""Explain lists notification deliveries as side effects on PostgreSQL: the real reminder policy
and send job write the records; the booking request caused its confirmation and the reminder it
planned, the reschedule its notice, the cancellation its notice; nothing names an address."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    RescheduleAppointment,
)
from commands.context import CommandContext
from domain.actor import Actor, Role
from infra.audit.wiring import seals
from infra.postgres.audit_trail import PostgresAuditTrail
from infra.postgres.database import Database, events_table
from infra.postgres.notifications.effects import DeliveryEffects
from projections.audit.effects import EFFECT_SOURCES
from projections.audit.sealing import CheckpointPolicy
from projections.audit.trail import SideEffect
from tests.audit_support import api_settings, seal_to_end
from tests.builders import create_slot, register_provider
from tests.integration.notifications_support import (
    DAY3,
    DAY4,
    World,
    clock,
    policy_clock,
    pool,
    reader_app,
    runner,
    world,
)

__all__ = ["clock", "policy_clock", "pool", "reader_app", "runner", "world"]


def staff(correlation: uuid.UUID) -> CommandContext:
    return CommandContext(Actor(uuid.uuid4(), Role.STAFF), correlation_id=correlation)


@pytest.fixture
def requests(world: World) -> dict[str, uuid.UUID]:
    """Book (then its 24 h reminder goes out), reschedule, cancel: each a request of its own."""
    ids = {name: uuid.uuid4() for name in ("book", "move", "cancel", "other")}
    provider = register_provider(world.app)
    patient = world.patient()
    first = create_slot(world.app, provider, DAY3)
    later = create_slot(world.app, provider, DAY4)
    booking = BookAppointment(slot_id=first, patient_id=patient)
    appointment = world.app.book(booking, staff(ids["book"])).id
    world.settle()
    world.drain()
    world.clock.set(DAY3 - timedelta(hours=24) + timedelta(minutes=1))
    world.drain()
    moved = RescheduleAppointment(appointment_id=appointment, new_slot_id=later)
    world.app.reschedule(moved, staff(ids["move"]))
    world.settle()
    world.drain()
    world.app.cancel(
        CancelAppointment(appointment_id=appointment, reason="x"), staff(ids["cancel"])
    )
    world.settle()
    world.drain()
    # Another patient's booking: its deliveries never appear under the requests above.
    other = create_slot(world.app, provider, DAY3 + timedelta(hours=2))
    world.app.book(BookAppointment(slot_id=other, patient_id=world.patient()), staff(ids["other"]))
    world.settle()
    world.drain()
    return {**ids, "appointment": appointment}


@pytest.fixture
def trail(
    world: World, pool: ConnectionPool[Any], database: Database, tmp_path: Path
) -> PostgresAuditTrail:
    settings = api_settings(database, tmp_path)
    seal_to_end(seals(settings, world.app, pool), CheckpointPolicy(every_events=5, every_seconds=0))
    return PostgresAuditTrail(
        pool,
        settings.audit_origin,
        settings.audit_access_origin,
        [],
        events_table(world.app),
        effect_sources=(*EFFECT_SOURCES, DeliveryEffects(pool)),
    )


def effects(trail: PostgresAuditTrail, correlation: uuid.UUID) -> list[SideEffect]:
    explained = trail.explain(correlation)
    assert explained is not None
    return list(explained.side_effects)


def kinds(found: list[SideEffect]) -> set[str]:
    """The message kinds; each went out by SMS and email and was written to the in-app inbox."""
    pairs = {(e.kind, e.detail) for e in found}
    named = {(e.detail or "").split(" ")[0] for e in found}
    assert pairs == {
        *(("notification.sent", f"{kind} sms") for kind in named),
        *(("notification.sent", f"{kind} email") for kind in named),
        *(("notification.delivered", f"{kind} in_app") for kind in named),
    }
    return named


def test_each_delivery_is_listed_with_the_request_that_caused_it(
    world: World, requests: dict[str, uuid.UUID], trail: PostgresAuditTrail
) -> None:
    appointment = requests["appointment"]
    booked = effects(trail, requests["book"])
    assert kinds(booked) == {"confirmation", "reminder_1440m"}
    assert kinds(effects(trail, requests["move"])) == {"reschedule"}
    assert kinds(effects(trail, requests["cancel"])) == {"cancellation"}
    other = effects(trail, requests["other"])
    assert kinds(other) == {"confirmation"}
    assert all(e.subject_id != appointment for e in other)
    records = {d.id: d for d in world.rows(appointment)}
    for request in ("book", "move", "cancel"):
        for effect in effects(trail, requests[request]):
            delivery = records[effect.effect_id]
            assert effect.subject_id == appointment
            assert effect.kind == f"notification.{delivery.status}"
            assert effect.detail == f"{delivery.kind} {delivery.channel}"
            assert effect.at is not None


def test_no_address_or_body_is_listed(
    world: World, requests: dict[str, uuid.UUID], trail: PostgresAuditTrail
) -> None:
    text = repr([effects(trail, requests[r]) for r in ("book", "move", "cancel")])
    assert "+4930123456" not in text
    assert "grace@example.org" not in text
    assert "Clinic" not in text
