"""The slot capability: creating, generating, blocking, unblocking and cancelling slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from commands.scheduling import Scheduling
from commands.slots.handlers import generated_slot_id
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    UnblockWindow,
)
from domain.calendar import ProviderCalendar
from domain.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    SlotOverlapError,
    SlotUnavailableError,
    ValidationError,
)
from domain.slot import Slot, SlotStatus
from tests.builders import (
    HALF_HOUR,
    STAFF,
    T0,
    TEN,
    all_events,
    as_,
    block,
    create_slot,
    mornings,
    patient,
    patient_books,
    provider,
    register_provider,
    slot_of,
)

pytestmark = pytest.mark.unit


# --- slots ------------------------------------------------------------------------------------


def test_creating_a_slot_places_it_in_the_providers_calendar(
    app: Scheduling, provider_id: UUID
) -> None:
    slot_id = create_slot(app, provider_id, capacity=2, appointment_types=["video", "phone"])

    slot = slot_of(app, slot_id)
    assert (slot.start, slot.end, slot.capacity) == (TEN, TEN + HALF_HOUR, 2)
    assert slot.appointment_types == ["phone", "video"]
    calendar = app.load(
        ProviderCalendar, ProviderCalendar.create_id(provider_id, TEN.date()), "calendar"
    )
    assert calendar.entries == {slot_id: (TEN, TEN + HALF_HOUR)}


def test_a_provider_creates_slots_on_their_own_schedule_only(
    app: Scheduling, provider_id: UUID
) -> None:
    command = CreateSlot(provider_id=provider_id, start=TEN, end=TEN + HALF_HOUR)
    app.create_slot(command, as_(provider(provider_id)))
    later = CreateSlot(provider_id=provider_id, start=TEN + HALF_HOUR, end=TEN + 2 * HALF_HOUR)
    with pytest.raises(ForbiddenError):
        app.create_slot(later, as_(provider(uuid4())))
    with pytest.raises(ForbiddenError):
        app.create_slot(later, as_(patient(uuid4())))


def test_creating_an_overlapping_slot_is_rejected_but_an_adjacent_one_is_allowed(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    with pytest.raises(SlotOverlapError):
        create_slot(app, provider_id, TEN + timedelta(minutes=15))
    create_slot(app, provider_id, TEN - HALF_HOUR)
    create_slot(app, provider_id, TEN + HALF_HOUR)


def test_two_providers_may_have_slots_at_the_same_time(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    create_slot(app, register_provider(app))


def test_creating_a_slot_that_has_already_ended_is_rejected(
    app: Scheduling, provider_id: UUID
) -> None:
    with pytest.raises(ValidationError):
        create_slot(app, provider_id, T0 - HALF_HOUR)


def test_an_over_long_slot_location_is_rejected(app: Scheduling, provider_id: UUID) -> None:
    with pytest.raises(ValidationError):
        create_slot(app, provider_id, location="x" * 501)


def test_creating_a_slot_for_an_unknown_provider_is_not_found(app: Scheduling) -> None:
    with pytest.raises(NotFoundError):
        create_slot(app, uuid4())


def test_generating_slots_creates_them_in_the_providers_zone(
    app: Scheduling, provider_id: UUID
) -> None:
    app.generate_slots(mornings(provider_id), as_(provider(provider_id)))

    # Two Tuesdays of 09:00-12:00 Berlin (UTC+1 in winter), six 30-minute slots each.
    created = [e for e in all_events(app) if isinstance(e, Slot.Created)]
    assert len(created) == 12
    first = slot_of(app, generated_slot_id(provider_id, datetime(2026, 11, 24, 8, tzinfo=UTC)))
    assert first.end == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    last_start = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert slot_of(app, generated_slot_id(provider_id, last_start)).status is SlotStatus.OPEN


def test_generating_the_same_slots_twice_creates_nothing_new(
    app: Scheduling, provider_id: UUID
) -> None:
    app.generate_slots(mornings(provider_id), as_(STAFF))
    head = app.head_position()

    app.generate_slots(mornings(provider_id), as_(STAFF))

    assert app.head_position() == head


def test_generating_is_all_or_nothing_when_a_generated_slot_overlaps_an_existing_one(
    app: Scheduling, provider_id: UUID
) -> None:
    create_slot(app, provider_id, datetime(2026, 12, 1, 9, 15, tzinfo=UTC))
    head = app.head_position()

    with pytest.raises(SlotOverlapError):
        app.generate_slots(mornings(provider_id), as_(STAFF))

    assert app.head_position() == head
    first = generated_slot_id(provider_id, datetime(2026, 11, 24, 8, tzinfo=UTC))
    assert app.load_or_none(Slot, first) is None


def test_regenerating_after_a_generated_slot_was_cancelled_leaves_it_cancelled(
    app: Scheduling, provider_id: UUID
) -> None:
    app.generate_slots(mornings(provider_id), as_(STAFF))
    cancelled = generated_slot_id(provider_id, datetime(2026, 11, 24, 8, tzinfo=UTC))
    app.cancel_slot(CancelSlot(slot_id=cancelled, reason="training"), as_(STAFF))
    head = app.head_position()

    app.generate_slots(mornings(provider_id), as_(STAFF))

    assert app.head_position() == head
    assert slot_of(app, cancelled).status is SlotStatus.CANCELLED


def test_a_provider_cannot_generate_slots_for_another_provider(
    app: Scheduling, provider_id: UUID
) -> None:
    with pytest.raises(ForbiddenError):
        app.generate_slots(mornings(provider_id), as_(provider(uuid4())))


def half_hours(app: Scheduling, provider_id: UUID, first: datetime, count: int) -> list[UUID]:
    return [create_slot(app, provider_id, first + n * HALF_HOUR) for n in range(count)]


def statuses(app: Scheduling, slot_ids: list[UUID]) -> list[SlotStatus]:
    return [slot_of(app, s).status for s in slot_ids]


OPEN, BLOCKED = SlotStatus.OPEN, SlotStatus.BLOCKED


def test_blocking_a_window_blocks_slots_on_its_boundaries_but_not_adjacent_ones(
    app: Scheduling, provider_id: UUID
) -> None:
    # 10:00, 10:30, 11:00, 11:30, 12:00; the window is 10:30-12:00.
    slots = half_hours(app, provider_id, TEN, 5)
    block(app, provider_id, TEN + HALF_HOUR, TEN + 4 * HALF_HOUR)
    assert statuses(app, slots) == [OPEN, BLOCKED, BLOCKED, BLOCKED, OPEN]


def test_blocking_a_window_blocks_slots_that_only_partly_overlap_it(
    app: Scheduling, provider_id: UUID
) -> None:
    slots = half_hours(app, provider_id, TEN, 4)
    block(app, provider_id, TEN + timedelta(minutes=20), TEN + timedelta(minutes=70))
    assert statuses(app, slots) == [BLOCKED, BLOCKED, BLOCKED, OPEN]


def test_blocking_a_window_finds_slots_on_every_utc_day_it_touches(
    app: Scheduling, provider_id: UUID
) -> None:
    slots = half_hours(app, provider_id, datetime(2026, 11, 23, 23, 30, tzinfo=UTC), 2)
    block(
        app,
        provider_id,
        datetime(2026, 11, 23, 23, 45, tzinfo=UTC),
        datetime(2026, 11, 24, 0, 15, tzinfo=UTC),
    )
    assert statuses(app, slots) == [BLOCKED, BLOCKED]


def test_blocking_records_the_booked_appointments_it_affects(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = patient_books(app, patient_id, slot_id)
    head = app.head_position()

    block(app, provider_id, TEN, TEN + HALF_HOUR)

    [blocked] = all_events(app, after=head)
    assert isinstance(blocked, Slot.Blocked)
    assert blocked.affected_appointment_ids == [appointment_id]


def test_a_blocked_slot_refuses_bookings_until_it_is_unblocked(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    block(app, provider_id, TEN, TEN + HALF_HOUR)
    with pytest.raises(SlotUnavailableError):
        patient_books(app, patient_id, slot_id)

    unblock = UnblockWindow(provider_id=provider_id, start=T0, end=T0 + timedelta(hours=4))
    app.unblock_window(unblock, as_(STAFF))

    patient_books(app, patient_id, slot_id)


def test_a_provider_cannot_block_or_cancel_on_another_providers_schedule(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    stranger = as_(provider(uuid4()))
    window = BlockWindow(provider_id=provider_id, start=TEN, end=TEN + HALF_HOUR, reason="x")
    with pytest.raises(ForbiddenError):
        app.block_window(window, stranger)
    with pytest.raises(ForbiddenError):
        app.cancel_slot(CancelSlot(slot_id=slot_id, reason="x"), stranger)
    assert slot_of(app, slot_id).status is SlotStatus.OPEN


def test_blocking_a_window_longer_than_92_days_is_rejected(
    app: Scheduling, provider_id: UUID
) -> None:
    with pytest.raises(ValidationError):
        block(app, provider_id, TEN, TEN + timedelta(days=93))


def test_cancelling_a_slot_frees_its_time_for_a_new_slot(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    app.cancel_slot(CancelSlot(slot_id=slot_id, reason="training"), as_(provider(provider_id)))

    assert slot_of(app, slot_id).status is SlotStatus.CANCELLED
    create_slot(app, provider_id, TEN)


def test_cancelling_a_slot_with_a_booking_is_rejected(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    patient_books(app, patient_id, slot_id)
    with pytest.raises(ConflictError):
        app.cancel_slot(CancelSlot(slot_id=slot_id, reason="x"), as_(STAFF))
