from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.appointment import Appointment, Status
from domain.errors import HoldExpiredError, InvalidTransitionError, TooEarlyError, TooLateError
from domain.fhir_status import FHIR_STATUS
from domain.personal import PersonalData
from domain.policies import CancellationPolicy, CheckInWindow, NoShowPolicy
from tests.builders import META

pytestmark = pytest.mark.unit

START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
BOOKED_AT = START - timedelta(days=3)
HOLD = timedelta(minutes=10)
TICK = timedelta(microseconds=1)
WINDOW = CheckInWindow(before=timedelta(minutes=30), after=timedelta(minutes=15))
NOTICE = CancellationPolicy(notice=timedelta(hours=24))
GRACE = NoShowPolicy(grace=timedelta(minutes=15))
FEE = Decimal("25.00")


def schedule(*, hold_expires_at: datetime | None = None) -> Appointment:
    return Appointment.schedule(
        appointment_id=uuid4(),
        patient_id=uuid4(),
        provider_id=uuid4(),
        slot_id=uuid4(),
        start=START,
        end=END,
        appointment_type="in_person",
        reason="cough",
        symptoms=["cough", "fever"],
        hold_expires_at=hold_expires_at,
        overbooked=False,
        meta=META,
    )


def given_booked() -> Appointment:
    appointment = schedule()
    appointment.collect_events()
    return appointment


def given_held() -> Appointment:
    appointment = schedule(hold_expires_at=BOOKED_AT + HOLD)
    appointment.collect_events()
    return appointment


def given_confirmed() -> Appointment:
    appointment = given_booked()
    appointment.confirm(META)
    appointment.collect_events()
    return appointment


def given_checked_in(at: datetime = START - timedelta(minutes=5)) -> Appointment:
    appointment = given_booked()
    appointment.check_in(at, WINDOW, META)
    appointment.collect_events()
    return appointment


def given_no_show(from_confirmed: bool) -> Appointment:
    appointment = given_confirmed() if from_confirmed else given_booked()
    appointment.mark_no_show(START + GRACE.grace, GRACE, META)
    appointment.collect_events()
    return appointment


# --- scheduling and holds ---------------------------------------------------------------------


def test_scheduling_without_a_hold_books_the_appointment() -> None:
    appointment = schedule()
    [scheduled] = appointment.collect_events()
    assert isinstance(scheduled, Appointment.Scheduled)
    assert scheduled.hold_expires_at is None
    # Free text about the patient is the patient's personal data, tagged with their id.
    assert scheduled.symptoms == PersonalData(appointment.patient_id, ["cough", "fever"])
    assert scheduled.reason == PersonalData(appointment.patient_id, "cough")
    assert scheduled.meta == META
    assert appointment.status is Status.BOOKED
    assert FHIR_STATUS[appointment.status] == "booked"


def test_scheduling_with_a_hold_leaves_the_appointment_held() -> None:
    appointment = schedule(hold_expires_at=BOOKED_AT + HOLD)
    [scheduled] = appointment.collect_events()
    assert isinstance(scheduled, Appointment.Scheduled)
    assert scheduled.hold_expires_at == BOOKED_AT + HOLD
    assert appointment.status is Status.HELD
    assert FHIR_STATUS[appointment.status] == "pending"


def test_booking_a_live_hold_books_the_appointment() -> None:
    appointment = given_held()
    appointment.book_from_hold(BOOKED_AT + HOLD - TICK, META)
    [booked] = appointment.collect_events()
    assert isinstance(booked, Appointment.BookedFromHold)
    assert appointment.status is Status.BOOKED
    assert appointment.hold_expires_at is None
    assert not appointment.is_hold_expired(START)


def test_booking_an_expired_hold_is_rejected() -> None:
    appointment = given_held()
    with pytest.raises(HoldExpiredError):
        appointment.book_from_hold(BOOKED_AT + HOLD, META)
    assert appointment.collect_events() == []
    assert appointment.status is Status.HELD


def test_booking_from_a_hold_needs_a_held_appointment() -> None:
    appointment = given_booked()
    with pytest.raises(InvalidTransitionError):
        appointment.book_from_hold(BOOKED_AT, META)


def test_expiring_a_hold_before_it_runs_out_is_rejected() -> None:
    appointment = given_held()
    with pytest.raises(TooEarlyError):
        appointment.expire_hold(BOOKED_AT + HOLD - TICK, META)
    assert appointment.collect_events() == []


def test_expiring_a_hold_that_ran_out_cancels_the_appointment() -> None:
    appointment = given_held()
    appointment.expire_hold(BOOKED_AT + HOLD, META)
    [expired] = appointment.collect_events()
    assert isinstance(expired, Appointment.HoldExpired)
    assert appointment.status is Status.CANCELLED


def test_expiring_the_hold_of_a_booked_appointment_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(InvalidTransitionError):
        appointment.expire_hold(START, META)


# --- lifecycle --------------------------------------------------------------------------------


def test_an_appointment_goes_through_its_whole_lifecycle() -> None:
    appointment = given_booked()
    checked_in_at = START - timedelta(minutes=10)
    started_at = START + timedelta(minutes=5)
    completed_at = started_at + timedelta(minutes=20)

    appointment.confirm(META)
    appointment.check_in(checked_in_at, WINDOW, META)
    appointment.begin(started_at, META)
    appointment.complete(completed_at, "fine", "private", {"bp": "120/80"}, True, META)

    confirmed, checked_in, started, completed = appointment.collect_events()
    assert isinstance(confirmed, Appointment.Confirmed)
    assert isinstance(checked_in, Appointment.CheckedIn)
    assert checked_in.at == checked_in_at
    assert isinstance(started, Appointment.Started)
    # The patient came early, so the wait counts from the scheduled start.
    assert started.wait_seconds == 5 * 60
    assert isinstance(completed, Appointment.Completed)
    assert completed.duration_seconds == 20 * 60
    assert completed.vitals == PersonalData(appointment.patient_id, {"bp": "120/80"})
    assert isinstance(completed.notes, PersonalData)
    assert isinstance(completed.private_notes, PersonalData)
    assert completed.follow_up_requested is True
    assert appointment.status is Status.COMPLETED
    assert FHIR_STATUS[appointment.status] == "fulfilled"
    assert all(e.meta == META for e in (confirmed, checked_in, started, completed))


def test_a_late_patient_waits_from_check_in_not_from_the_start() -> None:
    appointment = given_checked_in(at=START + timedelta(minutes=10))
    appointment.begin(START + timedelta(minutes=12), META)
    [started] = appointment.collect_events()
    assert isinstance(started, Appointment.Started)
    assert started.wait_seconds == 2 * 60


def test_confirming_twice_is_rejected() -> None:
    appointment = given_confirmed()
    with pytest.raises(InvalidTransitionError):
        appointment.confirm(META)


def test_starting_before_check_in_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(InvalidTransitionError):
        appointment.begin(START, META)


def test_completing_an_appointment_that_has_not_started_is_rejected() -> None:
    appointment = given_checked_in()
    with pytest.raises(InvalidTransitionError):
        appointment.complete(START, "", "", {}, False, META)


# --- check-in ---------------------------------------------------------------------------------


def test_check_in_is_allowed_on_both_edges_of_the_window() -> None:
    early = given_booked()
    early.check_in(START - WINDOW.before, WINDOW, META)
    late = given_confirmed()
    late.check_in(START + WINDOW.after, WINDOW, META)
    assert early.status is Status.CHECKED_IN
    assert late.status is Status.CHECKED_IN


def test_checking_in_too_early_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(TooEarlyError):
        appointment.check_in(START - WINDOW.before - TICK, WINDOW, META)
    assert appointment.collect_events() == []
    assert appointment.status is Status.BOOKED


def test_checking_in_too_late_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(TooLateError):
        appointment.check_in(START + WINDOW.after + TICK, WINDOW, META)
    assert appointment.collect_events() == []


def test_checking_in_twice_is_rejected() -> None:
    appointment = given_checked_in()
    with pytest.raises(InvalidTransitionError):
        appointment.check_in(START, WINDOW, META)
    assert appointment.collect_events() == []


def test_a_hold_cannot_be_checked_in() -> None:
    appointment = given_held()
    with pytest.raises(InvalidTransitionError):
        appointment.check_in(START, WINDOW, META)


# --- no-show ----------------------------------------------------------------------------------


def test_a_checked_in_patient_cannot_be_marked_no_show() -> None:
    appointment = given_checked_in()
    with pytest.raises(InvalidTransitionError):
        appointment.mark_no_show(START + timedelta(hours=1), GRACE, META)
    assert appointment.status is Status.CHECKED_IN


def test_marking_no_show_before_the_grace_period_ends_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(TooEarlyError):
        appointment.mark_no_show(START + GRACE.grace - TICK, GRACE, META)
    assert appointment.collect_events() == []


def test_marking_no_show_once_the_grace_period_ends_records_the_previous_status() -> None:
    appointment = given_confirmed()
    appointment.mark_no_show(START + GRACE.grace, GRACE, META)
    [marked] = appointment.collect_events()
    assert isinstance(marked, Appointment.MarkedNoShow)
    assert marked.at == START + GRACE.grace
    assert marked.previous_status == "confirmed"
    assert appointment.status is Status.NO_SHOW


@pytest.mark.parametrize(
    ("from_confirmed", "restored"), [(False, Status.BOOKED), (True, Status.CONFIRMED)]
)
def test_reverting_a_no_show_restores_the_previous_status(
    from_confirmed: bool, restored: Status
) -> None:
    appointment = given_no_show(from_confirmed)
    appointment.revert_no_show("patient was in the waiting room", META)
    [reverted] = appointment.collect_events()
    assert isinstance(reverted, Appointment.NoShowReverted)
    assert reverted.restored_status == restored.value
    assert reverted.reason == PersonalData(
        appointment.patient_id, "patient was in the waiting room"
    )
    assert appointment.status is restored
    assert appointment.status_before_no_show is None


def test_reverting_an_appointment_that_is_not_a_no_show_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(InvalidTransitionError):
        appointment.revert_no_show("oops", META)


def test_a_no_show_cannot_be_cancelled() -> None:
    appointment = given_no_show(from_confirmed=False)
    with pytest.raises(InvalidTransitionError):
        appointment.cancel(START + timedelta(hours=1), "x", NOTICE, None, None, META)


# --- cancellation -----------------------------------------------------------------------------


def test_cancelling_with_enough_notice_is_not_late_and_charges_no_fee() -> None:
    appointment = given_booked()
    late = appointment.cancel(START - NOTICE.notice, "travel", NOTICE, FEE, "EUR", META)
    [cancelled] = appointment.collect_events()
    assert late is False
    assert isinstance(cancelled, Appointment.Cancelled)
    assert (cancelled.late, cancelled.fee, cancelled.currency) == (False, None, None)
    assert cancelled.reason == PersonalData(appointment.patient_id, "travel")
    assert appointment.status is Status.CANCELLED


def test_cancelling_late_charges_the_fee() -> None:
    appointment = given_confirmed()
    now = START - NOTICE.notice + TICK
    late = appointment.cancel(now, "sick", NOTICE, FEE, "EUR", META)
    [cancelled] = appointment.collect_events()
    assert late is True
    assert isinstance(cancelled, Appointment.Cancelled)
    assert (cancelled.late, cancelled.fee, cancelled.currency) == (True, FEE, "EUR")
    assert cancelled.at == now


def test_cancelling_late_without_a_fee_is_late_but_charges_nothing() -> None:
    appointment = given_booked()
    assert appointment.cancel(START, "sick", NOTICE, None, "EUR", META) is True
    [cancelled] = appointment.collect_events()
    assert isinstance(cancelled, Appointment.Cancelled)
    assert (cancelled.late, cancelled.fee, cancelled.currency) == (True, None, None)


def test_cancelling_a_hold_is_never_late() -> None:
    appointment = given_held()
    assert appointment.cancel(BOOKED_AT + TICK, "changed mind", NOTICE, FEE, "EUR", META) is False
    [cancelled] = appointment.collect_events()
    assert isinstance(cancelled, Appointment.Cancelled)
    assert cancelled.fee is None


def test_cancelling_twice_is_rejected() -> None:
    appointment = given_booked()
    appointment.cancel(BOOKED_AT, "x", NOTICE, None, None, META)
    with pytest.raises(InvalidTransitionError):
        appointment.cancel(BOOKED_AT, "x", NOTICE, None, None, META)


def test_an_appointment_in_progress_cannot_be_cancelled() -> None:
    appointment = given_checked_in()
    appointment.begin(START, META)
    with pytest.raises(InvalidTransitionError):
        appointment.cancel(START, "x", NOTICE, None, None, META)


# --- rescheduling -----------------------------------------------------------------------------


def test_rescheduling_moves_the_appointment_and_keeps_its_identity() -> None:
    appointment = given_confirmed()
    identity, old_slot = appointment.id, appointment.slot_id
    new_slot = uuid4()
    new_start = START + timedelta(days=1)

    appointment.reschedule(new_slot, new_start, new_start + timedelta(minutes=30), "clash", META)

    [rescheduled] = appointment.collect_events()
    assert isinstance(rescheduled, Appointment.Rescheduled)
    assert rescheduled.originator_id == identity
    assert (rescheduled.from_slot_id, rescheduled.from_start) == (old_slot, START)
    assert (rescheduled.slot_id, rescheduled.start) == (new_slot, new_start)
    assert appointment.id == identity
    assert (appointment.slot_id, appointment.start) == (new_slot, new_start)
    # only the time moved, with the same provider: the patient's confirmation stands
    assert appointment.status is Status.CONFIRMED
    assert rescheduled.confirmation_kept
    assert rescheduled.provider_id is None
    assert appointment.reschedule_count == 1


def test_moving_to_another_provider_needs_a_new_confirmation() -> None:
    appointment = given_confirmed()
    elsewhere = uuid4()
    new_start = START + timedelta(days=1)
    appointment.reschedule(
        uuid4(), new_start, new_start + timedelta(minutes=30), "", META, provider_id=elsewhere
    )
    [rescheduled] = appointment.collect_events()
    assert isinstance(rescheduled, Appointment.Rescheduled)
    assert rescheduled.provider_id == elsewhere
    assert not rescheduled.confirmation_kept
    assert appointment.provider_id == elsewhere
    assert appointment.status is Status.BOOKED


def test_a_reschedule_records_the_new_seats_overbooking() -> None:
    appointment = given_booked()
    assert not appointment.overbooked
    appointment.reschedule(
        uuid4(), START + timedelta(days=1), END + timedelta(days=1), "", META, overbooked=True
    )
    [rescheduled] = appointment.collect_events()
    assert isinstance(rescheduled, Appointment.Rescheduled)
    assert rescheduled.overbooked is True
    assert appointment.overbooked


def test_rescheduling_into_the_same_slot_is_rejected() -> None:
    appointment = given_booked()
    with pytest.raises(InvalidTransitionError):
        appointment.reschedule(appointment.slot_id, START, END, "", META)


@pytest.mark.parametrize("given", [given_held, given_checked_in])
def test_only_booked_or_confirmed_appointments_can_be_rescheduled(
    given: Callable[[], Appointment],
) -> None:
    appointment = given()
    with pytest.raises(InvalidTransitionError):
        appointment.reschedule(uuid4(), START, END, "", META)


def test_every_status_has_a_fhir_appointment_status() -> None:
    assert set(FHIR_STATUS) == set(Status)
