"""Waitlist commands on the in-memory application: given an entry, when a command runs, then
these events, seats and holds."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commands.appointments.messages import BookAppointment
from commands.scheduling import Scheduling
from commands.waitlist.messages import (
    AcceptWaitlistOffer,
    CloseWaitlistEntry,
    DeclineWaitlistOffer,
    ExpireWaitlistOffer,
    JoinWaitlist,
    LeaveWaitlist,
    OfferWaitlistSeat,
    RebookDisplaced,
    SetWaitlistPriority,
)
from domain.appointment import Status
from domain.errors import (
    ForbiddenError,
    HoldExpiredError,
    InvalidTransitionError,
    NotFoundError,
    SlotFullError,
)
from domain.waitlist import EntryStatus, NotEligibleError, WaitlistEntry
from tests.builders import (
    all_events,
    appointment_of,
    as_patient,
    as_staff,
    as_system,
    book,
    create_slot,
    names,
    patient_registers,
    slot_of,
)
from tests.fakes import FixedClock
from tests.unit.waitlist.conftest import SLOT_AT, joins, offer


def entry_of(app: Scheduling, entry_id: UUID) -> WaitlistEntry:
    return app.load(WaitlistEntry, entry_id, "waitlist entry")


def test_a_patient_joins_for_themselves_at_the_default_tier(
    app: Scheduling, patient_id: UUID, provider_id: UUID
) -> None:
    entry = entry_of(app, joins(app, patient_id, provider_id))
    assert (entry.patient_id, entry.status, entry.tier) == (patient_id, EntryStatus.WAITING, 3)
    assert entry.time_zone == "Europe/Berlin"  # the patient's own zone


def test_only_staff_set_a_priority_tier(
    app: Scheduling, patient_id: UUID, provider_id: UUID
) -> None:
    with pytest.raises(ForbiddenError):
        joins(app, patient_id, provider_id, tier=0)
    command = JoinWaitlist(provider_id=provider_id, patient_id=patient_id, tier=1)
    entry_id = app.join_waitlist(command, as_staff()).id
    assert entry_of(app, entry_id).tier == 1
    with pytest.raises(ForbiddenError):
        app.set_waitlist_priority(
            SetWaitlistPriority(entry_id=entry_id, tier=0), as_patient(patient_id)
        )
    app.set_waitlist_priority(SetWaitlistPriority(entry_id=entry_id, tier=0), as_staff())
    assert entry_of(app, entry_id).tier == 0


def test_someone_elses_entry_does_not_exist_for_a_patient(
    app: Scheduling, patient_id: UUID, provider_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    other = patient_registers(app, "Someone Else")
    with pytest.raises(NotFoundError):
        app.leave_waitlist(LeaveWaitlist(entry_id=entry_id), as_patient(other))
    with pytest.raises(ForbiddenError):
        app.join_waitlist(
            JoinWaitlist(provider_id=provider_id, patient_id=patient_id), as_patient(other)
        )


def test_an_offer_holds_the_seat_so_nobody_else_can_book_it(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, hold_id = offer(app, entry_id, slot_id)
    entry = entry_of(app, entry_id)
    assert entry.status is EntryStatus.OFFERED
    assert entry.offer is not None
    assert entry.offer.offer_id == offer_id
    hold = appointment_of(app, hold_id)
    assert (hold.status, hold.patient_id) == (Status.HELD, patient_id)
    # Two days ahead: two hours to answer, and the hold lasts exactly as long.
    assert hold.hold_expires_at == entry.offer.expires_at == app.clock.now() + timedelta(hours=2)
    with pytest.raises(SlotFullError):
        book(app, slot_id, patient_registers(app, "Another"))
    offered = [e for e in all_events(app) if isinstance(e, WaitlistEntry.Offered)]
    assert offered[0].rank == {"tier": 3}


def test_one_open_offer_per_entry_and_a_seat_is_never_offered_twice(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer(app, entry_id, slot_id)
    second = create_slot(app, provider_id, SLOT_AT + timedelta(hours=1))
    with pytest.raises(NotEligibleError):
        offer(app, entry_id, second)


def test_accept_books_from_the_hold_and_a_repeat_answers_the_same(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, hold_id = offer(app, entry_id, slot_id)
    accept = AcceptWaitlistOffer(entry_id=entry_id, offer_id=offer_id)
    first = app.accept_waitlist_offer(accept, as_patient(patient_id))
    head = app.head_position()
    again = app.accept_waitlist_offer(accept, as_patient(patient_id))
    assert first.ids["appointment_id"] == again.ids["appointment_id"] == hold_id
    assert app.head_position() == head  # nothing recorded twice
    assert appointment_of(app, hold_id).status is Status.BOOKED
    assert slot_of(app, slot_id).allocations[hold_id].expires_at is None
    assert entry_of(app, entry_id).status is EntryStatus.ACCEPTED


def test_accept_after_expiry_is_refused_and_the_lapse_releases_the_seat(
    app: Scheduling, clock: FixedClock, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, hold_id = offer(app, entry_id, slot_id)
    clock.advance(timedelta(hours=2))
    with pytest.raises(HoldExpiredError):
        app.accept_waitlist_offer(
            AcceptWaitlistOffer(entry_id=entry_id, offer_id=offer_id), as_patient(patient_id)
        )
    app.expire_waitlist_offer(
        ExpireWaitlistOffer(entry_id=entry_id, offer_id=offer_id), as_system()
    )
    assert entry_of(app, entry_id).status is EntryStatus.WAITING
    assert appointment_of(app, hold_id).status is Status.CANCELLED
    assert hold_id not in slot_of(app, slot_id).allocations
    # Waiting again, but never for the same seat.
    with pytest.raises(NotEligibleError):
        offer(app, entry_id, slot_id)


def test_an_offer_still_open_cannot_be_expired(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, _ = offer(app, entry_id, slot_id)
    with pytest.raises(InvalidTransitionError):
        app.expire_waitlist_offer(
            ExpireWaitlistOffer(entry_id=entry_id, offer_id=offer_id), as_system()
        )


def test_decline_releases_the_hold_and_cools_the_entry_down(
    app: Scheduling, clock: FixedClock, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, hold_id = offer(app, entry_id, slot_id)
    app.decline_waitlist_offer(
        DeclineWaitlistOffer(entry_id=entry_id, offer_id=offer_id), as_patient(patient_id)
    )
    assert hold_id not in slot_of(app, slot_id).allocations
    assert entry_of(app, entry_id).status is EntryStatus.DECLINED
    later = create_slot(app, provider_id, SLOT_AT + timedelta(days=2))
    with pytest.raises(NotEligibleError, match="cooling down"):
        offer(app, entry_id, later)
    clock.advance(timedelta(hours=24))
    offer(app, entry_id, later)
    assert entry_of(app, entry_id).status is EntryStatus.OFFERED


def test_leaving_with_an_open_offer_gives_the_seat_back(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    _, hold_id = offer(app, entry_id, slot_id)
    app.leave_waitlist(LeaveWaitlist(entry_id=entry_id), as_patient(patient_id))
    assert entry_of(app, entry_id).status is EntryStatus.CANCELLED
    assert hold_id not in slot_of(app, slot_id).allocations
    assert slot_of(app, slot_id).free_seats(app.clock.now()) == 1


def test_move_me_earlier_reschedules_the_later_appointment_into_the_seat(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    later_slot = create_slot(app, provider_id, SLOT_AT + timedelta(days=7))
    later = app.book(BookAppointment(slot_id=later_slot), as_patient(patient_id)).id
    entry_id = joins(app, patient_id, provider_id, appointment_id=later)
    assert entry_of(app, entry_id).moves_start == SLOT_AT + timedelta(days=7)
    offer_id, hold_id = offer(app, entry_id, slot_id)
    before = app.head_position()
    result = app.accept_waitlist_offer(
        AcceptWaitlistOffer(entry_id=entry_id, offer_id=offer_id), as_patient(patient_id)
    )
    assert result.ids["appointment_id"] == later
    moved = appointment_of(app, later)
    assert (moved.slot_id, moved.status) == (slot_id, Status.BOOKED)
    assert appointment_of(app, hold_id).status is Status.CANCELLED
    assert set(slot_of(app, slot_id).allocations) == {later}
    assert slot_of(app, later_slot).allocations == {}
    # One save: every event of the move shares the accept's request.
    stored = all_events(app, before)
    assert len({e.meta.correlation_id for e in stored}) == 1
    assert "Appointment.Rescheduled" in names(stored)


def test_a_seat_not_earlier_than_the_appointment_is_not_offered_to_move_it(
    app: Scheduling, patient_id: UUID, provider_id: UUID
) -> None:
    soon = create_slot(app, provider_id, SLOT_AT)
    current = app.book(BookAppointment(slot_id=soon), as_patient(patient_id)).id
    entry_id = joins(app, patient_id, provider_id, appointment_id=current)
    later = create_slot(app, provider_id, SLOT_AT + timedelta(days=1))
    with pytest.raises(NotEligibleError, match="not_earlier"):
        offer(app, entry_id, later)


def test_the_policy_closes_entries_and_rebooks_displaced_patients(
    app: Scheduling, clock: FixedClock, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    app.close_waitlist_entry(
        CloseWaitlistEntry(entry_id=entry_id, why="booked_elsewhere"), as_system()
    )
    assert entry_of(app, entry_id).status is EntryStatus.CANCELLED
    booked = book(app, slot_id, patient_id).id
    rebook = RebookDisplaced(appointment_id=booked, cause="blocked")
    first = app.rebook_displaced(rebook, as_system()).id
    assert app.rebook_displaced(rebook, as_system()).id == first  # once per displacement
    entry = entry_of(app, first)
    assert (entry.tier, entry.moves_appointment_id, entry.origin) == (0, booked, "blocked")
    with pytest.raises(ForbiddenError):
        app.rebook_displaced(rebook, as_staff())
    dated = joins(app, patient_id, provider_id, deadline=SLOT_AT.date())
    expire = CloseWaitlistEntry(entry_id=dated, why="deadline")
    with pytest.raises(InvalidTransitionError):
        app.close_waitlist_entry(expire, as_system())
    clock.advance(timedelta(days=3))
    app.close_waitlist_entry(expire, as_system())
    assert entry_of(app, dated).status is EntryStatus.EXPIRED


def test_an_unknown_entry_is_not_found(app: Scheduling, slot_id: UUID) -> None:
    with pytest.raises(NotFoundError):
        app.offer_waitlist_seat(OfferWaitlistSeat(entry_id=uuid4(), slot_id=slot_id), as_system())
