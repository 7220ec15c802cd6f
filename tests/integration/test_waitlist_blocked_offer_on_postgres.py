"""An open offer whose seat's slot is blocked (issue 11 gap): accepting it is refused (409,
nothing booked on the blocked slot), the policy withdraws it (the entry waits again, without a
cool-down, and the hold is given up), and the seat goes to the next entry when it reopens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from commands.slots.messages import BlockWindow, UnblockWindow
from commands.waitlist.messages import AcceptWaitlistOffer
from domain.appointment import Appointment, Status
from domain.errors import InvalidTransitionError, SlotUnavailableError
from domain.slot import Slot
from domain.waitlist import EntryStatus
from tests.builders import T0, as_patient, as_staff, patient_registers
from tests.waitlist_world import DAYS, World, booked_slot, pool, runners, world

__all__ = ["pool", "runners", "world"]


def _window(world: World) -> dict[str, Any]:
    start = T0 + DAYS
    return {"provider_id": world.provider_id, "start": start, "end": start + timedelta(minutes=30)}


def _offered(world: World) -> tuple[UUID, tuple[UUID, UUID], tuple[UUID, UUID]]:
    slot_id, booked = booked_slot(world)
    first, second = patient_registers(world.app), patient_registers(world.app)
    a, b = world.joins(first), world.joins(second)
    world.cancel(booked)
    world.tick()
    assert world.entry(a).status is EntryStatus.OFFERED
    return slot_id, (first, a), (second, b)


def _offer_status(pool: ConnectionPool[Any], entry_id: UUID) -> list[str]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT status FROM rm_waitlist_offers WHERE entry_id = %s", (entry_id,)
        ).fetchall()
    return [r[0] for r in rows]


def test_a_blocked_seat_withdraws_the_open_offer_and_accept_is_refused(
    world: World, pool: ConnectionPool[Any]
) -> None:
    slot_id, (first, a), (_, b) = _offered(world)
    offer = world.entry(a).offer
    assert offer is not None
    world.app.block_window(BlockWindow(reason="training", **_window(world)), as_staff())
    accept = AcceptWaitlistOffer(entry_id=a, offer_id=offer.offer_id)
    # Before the policy has run: the accept must not book the blocked slot.
    with pytest.raises(SlotUnavailableError):
        world.app.accept_waitlist_offer(accept, as_patient(first))
    assert world.app.load(Appointment, offer.appointment_id, "a").status is Status.HELD
    world.tick()
    entry = world.entry(a)
    assert (entry.status, entry.offer, entry.cooldown_until) == (EntryStatus.WAITING, None, None)
    hold = world.app.load(Appointment, offer.appointment_id, "a")
    assert hold.status is Status.CANCELLED
    assert world.app.load(Slot, slot_id, "s").allocations == {}  # no hold left behind
    assert _offer_status(pool, a) == ["withdrawn"]
    # The hold was no booking of the patient's: no top-tier "displaced" entry for it.
    assert world.policy.work.open_entries_of(first) == [a]
    assert world.entry(b).status is EntryStatus.WAITING  # a blocked seat is offered to no one
    with pytest.raises(InvalidTransitionError):  # the API answers 409 invalid-transition
        world.app.accept_waitlist_offer(accept, as_patient(first))


def test_the_reopened_seat_goes_to_the_next_entry(world: World) -> None:
    slot_id, (_, a), (second, b) = _offered(world)
    world.app.block_window(BlockWindow(reason="training", **_window(world)), as_staff())
    world.tick()
    world.app.unblock_window(UnblockWindow(**_window(world)), as_staff())
    world.tick()
    # A seat once offered to an entry is not offered to it again: the next entry has it.
    assert world.entry(a).status is EntryStatus.WAITING
    assert world.entry(b).status is EntryStatus.OFFERED
    assert world.accept(b, second) in world.live_seats(slot_id)
