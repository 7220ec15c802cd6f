from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import (
    ConflictError,
    HoldExpiredError,
    SlotFullError,
    SlotUnavailableError,
    ValidationError,
)
from domain.slot import Slot, SlotStatus
from domain.timerange import TimeRange
from tests.builders import META

pytestmark = pytest.mark.unit

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
HOLD = timedelta(minutes=10)
TICK = timedelta(microseconds=1)


def given_slot(
    capacity: int = 1, allowance: int = 0, types: tuple[str, ...] = ("in_person",)
) -> Slot:
    slot = Slot.create(
        slot_id=uuid4(),
        provider_id=uuid4(),
        time=TimeRange(START, END),
        capacity=capacity,
        overbook_allowance=allowance,
        appointment_types=list(types),
        location="Main St",
        room="3",
        meta=META,
    )
    slot.collect_events()
    return slot


def take(
    slot: Slot,
    *,
    now: datetime = NOW,
    hold_until: datetime | None = None,
    may_overbook: bool = False,
    appointment_type: str = "in_person",
    appointment_id: UUID | None = None,
) -> UUID:
    appointment_id = appointment_id or uuid4()
    slot.take_seat(
        appointment_id,
        appointment_type,
        now,
        hold_until=hold_until,
        may_overbook=may_overbook,
        meta=META,
    )
    return appointment_id


# --- creation ---------------------------------------------------------------------------------


def test_creating_a_slot_records_its_terms_with_types_sorted_and_deduplicated() -> None:
    slot_id = uuid4()
    slot = Slot.create(
        slot_id=slot_id,
        provider_id=uuid4(),
        time=TimeRange(START, END),
        capacity=2,
        overbook_allowance=1,
        appointment_types=["video", "in_person", "video"],
        location=None,
        room=None,
        meta=META,
    )
    [created] = slot.collect_events()
    assert isinstance(created, Slot.Created)
    assert created.originator_id == slot_id
    assert (created.start, created.end, created.capacity) == (START, END, 2)
    assert created.appointment_types == ["in_person", "video"]
    assert created.meta == META
    assert slot.status is SlotStatus.OPEN
    assert slot.free_seats(NOW) == 2


@pytest.mark.parametrize(
    ("capacity", "allowance", "types"),
    [(0, 0, ["in_person"]), (1, -1, ["in_person"]), (1, 0, []), (1, 0, ["telepathy"])],
    ids=["no-seats", "negative-allowance", "no-types", "unknown-type"],
)
def test_creating_a_slot_with_invalid_terms_is_rejected(
    capacity: int, allowance: int, types: list[str]
) -> None:
    with pytest.raises(ValidationError):
        Slot.create(
            slot_id=uuid4(),
            provider_id=uuid4(),
            time=TimeRange(START, END),
            capacity=capacity,
            overbook_allowance=allowance,
            appointment_types=types,
            location=None,
            room=None,
            meta=META,
        )


# --- capacity ---------------------------------------------------------------------------------


def test_taking_a_seat_records_seat_taken_as_a_booking() -> None:
    slot = given_slot()
    appointment_id = take(slot)
    [taken] = slot.collect_events()
    assert isinstance(taken, Slot.SeatTaken)
    assert taken.appointment_id == appointment_id
    assert taken.hold_until is None
    assert taken.overbooked is False
    assert slot.free_seats(NOW) == 0


def test_booking_a_full_slot_is_rejected() -> None:
    slot = given_slot(capacity=1)
    take(slot)
    slot.collect_events()
    with pytest.raises(SlotFullError):
        take(slot)
    assert slot.collect_events() == []


def test_a_slot_takes_as_many_seats_as_its_capacity() -> None:
    slot = given_slot(capacity=3)
    for _ in range(3):
        take(slot)
    assert slot.live_seats(NOW) == 3
    with pytest.raises(SlotFullError):
        take(slot)


def test_the_same_appointment_cannot_take_two_seats() -> None:
    slot = given_slot(capacity=2)
    appointment_id = take(slot)
    with pytest.raises(ConflictError):
        take(slot, appointment_id=appointment_id)


# --- holds ------------------------------------------------------------------------------------


def test_a_live_hold_counts_against_capacity() -> None:
    slot = given_slot(capacity=1)
    take(slot, hold_until=NOW + HOLD)
    [taken] = slot.collect_events()
    assert isinstance(taken, Slot.SeatTaken)
    assert taken.hold_until == NOW + HOLD
    with pytest.raises(SlotFullError):
        take(slot, now=NOW + HOLD - TICK)


def test_an_expired_hold_stops_counting_without_any_sweeper() -> None:
    slot = given_slot(capacity=1)
    held = take(slot, hold_until=NOW + HOLD)
    slot.collect_events()

    assert slot.live_seats(NOW + HOLD - TICK) == 1
    assert slot.live_seats(NOW + HOLD) == 0
    assert slot.free_seats(NOW + HOLD) == 1
    booked = take(slot, now=NOW + HOLD)

    [taken] = slot.collect_events()
    assert isinstance(taken, Slot.SeatTaken)
    assert taken.appointment_id == booked
    assert taken.overbooked is False
    assert slot.booked_appointment_ids(NOW + HOLD) == [booked]
    assert held in slot.allocations  # the expired hold is still there, it just does not count


def test_converting_a_live_hold_makes_a_booking_that_never_expires() -> None:
    slot = given_slot()
    held = take(slot, hold_until=NOW + HOLD)
    slot.collect_events()

    slot.convert_hold(held, NOW + HOLD - TICK, META)

    [converted] = slot.collect_events()
    assert isinstance(converted, Slot.HoldConverted)
    assert converted.appointment_id == held
    assert slot.allocations[held].expires_at is None
    assert slot.live_seats(NOW + timedelta(days=1)) == 1


def test_converting_an_expired_hold_is_rejected() -> None:
    slot = given_slot()
    held = take(slot, hold_until=NOW + HOLD)
    slot.collect_events()
    with pytest.raises(HoldExpiredError):
        slot.convert_hold(held, NOW + HOLD, META)
    assert slot.collect_events() == []


def test_converting_a_booking_or_an_unknown_appointment_is_rejected() -> None:
    slot = given_slot(capacity=2)
    booked = take(slot)
    with pytest.raises(ConflictError):
        slot.convert_hold(booked, NOW, META)
    with pytest.raises(ConflictError):
        slot.convert_hold(uuid4(), NOW, META)


# --- overbooking ------------------------------------------------------------------------------


def test_a_caller_allowed_to_overbook_may_go_past_capacity_up_to_the_allowance() -> None:
    slot = given_slot(capacity=1, allowance=2)
    take(slot, may_overbook=True)
    take(slot, may_overbook=True)
    take(slot, may_overbook=True)
    taken = slot.collect_events()
    assert all(isinstance(e, Slot.SeatTaken) for e in taken)
    flags = [e.overbooked for e in taken if isinstance(e, Slot.SeatTaken)]
    assert flags == [False, True, True]
    assert slot.live_seats(NOW) == 3
    with pytest.raises(SlotFullError):
        take(slot, may_overbook=True)


def test_a_caller_not_allowed_to_overbook_is_held_to_capacity_despite_an_allowance() -> None:
    slot = given_slot(capacity=1, allowance=5)
    take(slot)
    with pytest.raises(SlotFullError):
        take(slot, may_overbook=False)


def test_overbooking_is_refused_when_the_slot_has_no_allowance() -> None:
    slot = given_slot(capacity=1, allowance=0)
    take(slot)
    with pytest.raises(SlotFullError):
        take(slot, may_overbook=True)


# --- releasing --------------------------------------------------------------------------------


def test_releasing_a_seat_gives_it_back() -> None:
    slot = given_slot()
    booked = take(slot)
    slot.collect_events()

    assert slot.release_seat(booked, "cancelled", META) is True

    [released] = slot.collect_events()
    assert isinstance(released, Slot.SeatReleased)
    assert (released.appointment_id, released.reason) == (booked, "cancelled")
    assert slot.free_seats(NOW) == 1
    take(slot)


def test_releasing_a_seat_twice_is_a_no_op() -> None:
    slot = given_slot(capacity=2)
    booked = take(slot)
    other = take(slot)
    slot.release_seat(booked, "cancelled", META)
    slot.collect_events()

    assert slot.release_seat(booked, "cancelled again", META) is False

    assert slot.collect_events() == []
    assert list(slot.allocations) == [other]


# --- availability -----------------------------------------------------------------------------


def test_a_blocked_slot_refuses_seats() -> None:
    slot = given_slot()
    slot.block("sick", NOW, META)
    with pytest.raises(SlotUnavailableError):
        take(slot)


def test_a_cancelled_slot_refuses_seats() -> None:
    slot = given_slot()
    slot.cancel("closed", NOW, META)
    with pytest.raises(SlotUnavailableError):
        take(slot)


def test_a_slot_refuses_an_appointment_type_it_does_not_offer() -> None:
    slot = given_slot(types=("in_person", "phone"))
    with pytest.raises(SlotUnavailableError):
        take(slot, appointment_type="video")
    take(slot, appointment_type="phone")


def test_a_slot_that_has_ended_refuses_seats() -> None:
    slot = given_slot()
    with pytest.raises(SlotUnavailableError):
        take(slot, now=END)
    take(slot, now=END - TICK)


# --- block, unblock, cancel -------------------------------------------------------------------


def test_blocking_records_the_live_appointments_it_affects() -> None:
    slot = given_slot(capacity=3)
    booked = take(slot)
    live_hold = take(slot, hold_until=NOW + 2 * HOLD)
    take(slot, hold_until=NOW + HOLD)  # expired by the time of blocking
    slot.collect_events()

    assert slot.block("provider ill", NOW + HOLD, META) is True

    [blocked] = slot.collect_events()
    assert isinstance(blocked, Slot.Blocked)
    assert blocked.reason == "provider ill"
    assert blocked.affected_appointment_ids == sorted([booked, live_hold])
    assert slot.status is SlotStatus.BLOCKED


def test_blocking_twice_records_nothing_the_second_time() -> None:
    slot = given_slot()
    slot.block("a", NOW, META)
    slot.collect_events()
    assert slot.block("b", NOW, META) is False
    assert slot.collect_events() == []


def test_unblocking_reopens_a_blocked_slot() -> None:
    slot = given_slot()
    slot.block("a", NOW, META)
    slot.collect_events()

    assert slot.unblock(META) is True

    [unblocked] = slot.collect_events()
    assert isinstance(unblocked, Slot.Unblocked)
    assert slot.status is SlotStatus.OPEN
    take(slot)


def test_unblocking_an_open_slot_records_nothing() -> None:
    slot = given_slot()
    assert slot.unblock(META) is False
    assert slot.collect_events() == []


def test_a_cancelled_slot_can_be_neither_blocked_nor_cancelled_again() -> None:
    slot = given_slot()
    slot.cancel("closed", NOW, META)
    slot.collect_events()
    assert slot.block("x", NOW, META) is False
    with pytest.raises(ConflictError):
        slot.cancel("again", NOW, META)
    assert slot.collect_events() == []


def test_cancelling_a_slot_with_a_live_booking_or_hold_is_rejected() -> None:
    booked_slot = given_slot()
    take(booked_slot)
    with pytest.raises(ConflictError):
        booked_slot.cancel("closed", NOW, META)

    held_slot = given_slot()
    take(held_slot, hold_until=NOW + HOLD)
    with pytest.raises(ConflictError):
        held_slot.cancel("closed", NOW, META)


def test_cancelling_a_slot_whose_only_hold_expired_is_allowed() -> None:
    slot = given_slot()
    take(slot, hold_until=NOW + HOLD)
    slot.collect_events()

    slot.cancel("closed", NOW + HOLD, META)

    [cancelled] = slot.collect_events()
    assert isinstance(cancelled, Slot.Cancelled)
    assert cancelled.reason == "closed"
    assert slot.status is SlotStatus.CANCELLED
