"""The in-memory application the waitlist tests run on: a provider with a slot two days ahead."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from commands.scheduling import Scheduling
from commands.waitlist.messages import JoinWaitlist, OfferWaitlistSeat
from tests.builders import T0, as_patient, as_system, create_slot
from tests.unit.commands.conftest import app, clock, patient_id, provider_id

__all__ = ["app", "clock", "patient_id", "provider_id"]

SLOT_AT = T0 + timedelta(days=2)


@pytest.fixture
def slot_id(app: Scheduling, provider_id: UUID) -> UUID:
    return create_slot(app, provider_id, SLOT_AT)


def joins(app: Scheduling, patient_id: UUID, provider_id: UUID, **fields: object) -> UUID:
    command = JoinWaitlist(provider_id=provider_id, **fields)  # type: ignore[arg-type]
    return app.join_waitlist(command, as_patient(patient_id)).id


def offer(app: Scheduling, entry_id: UUID, slot_id: UUID) -> tuple[UUID, UUID]:
    """The policy offers the seat; returns the offer id and the hold's appointment id."""
    result = app.offer_waitlist_seat(
        OfferWaitlistSeat(entry_id=entry_id, slot_id=slot_id, rank={"tier": 3}), as_system()
    )
    return result.ids["offer_id"], result.ids["appointment_id"]
