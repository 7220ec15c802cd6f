"""A log with every kind of event the projections handle, partial updates included, for tests
that compare two ways of projecting it (live and rebuilt)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import uuid4

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    ExpireHold,
    FollowUpRequest,
    HoldAppointment,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
    StartAppointment,
)
from commands.context import CommandContext
from commands.directory.messages import (
    ErasePatient,
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    SetLegalHold,
    UpdatePatient,
    UpdateProvider,
)
from commands.feedback.messages import RateVisit
from commands.follow_ups.messages import BookFollowUp, DismissFollowUp
from commands.payments.messages import RecordPayment, RefundPayment, SetFeePolicy
from commands.reports.messages import SaveReport
from commands.scheduling import Scheduling
from commands.series.messages import BookSeries
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    UnblockWindow,
    WorkingSession,
)
from domain.actor import Actor, Role
from domain.follow_up import FollowUp
from domain.patient import ErasureReason
from tests.builders import as_, as_staff, as_system
from tests.fakes import FixedClock

START = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)  # a Monday
HALF_HOUR = timedelta(minutes=30)


FEE = Decimal("30.00")


def every_event_clock() -> FixedClock:
    """The clock `drive_every_event` expects: a day before its first slot."""
    return FixedClock(START - timedelta(days=1))


def drive_every_event(
    app: Scheduling,
    clock: FixedClock,
    patient: PatientDetails | None = None,
    before_erasure: Callable[[], object] | None = None,
) -> None:
    """Run every command that records an event a projection handles, on `app` whose clock is
    `clock` (from `every_event_clock`); the patient registers with `patient` when given.
    Directory updates are partial: they name only some of the fields, so a projection must
    merge them into what it has. The first command carries an Idempotency-Key. The patient's
    free texts are distinct personal values; the patient is put under a legal hold, released,
    then erased last, after `before_erasure` (e.g. to read the log while the values are there)."""
    staff = as_staff()
    provider = app.register_provider(
        RegisterProvider(
            profile=ProviderProfile(
                name="Dr P", time_zone="Europe/Berlin", specializations=["cardiology"]
            )
        ),
        as_staff("every-event-1"),
    ).id
    for partial in (
        ProviderProfile(bio="updated", accepting_new_patients=False),
        ProviderProfile(fee_amount=Decimal("80.00"), fee_currency="EUR", languages=["de"]),
        ProviderProfile(name="Dr P Q", specializations=["cardiology", "sports medicine"]),
    ):
        app.update_provider(UpdateProvider(provider_id=provider, profile=partial), staff)

    patient_id = uuid4()
    me = CommandContext(Actor(patient_id, Role.PATIENT))
    details = patient or PatientDetails(
        name="Pat", time_zone="Europe/Berlin", birth_date=date(1990, 1, 2)
    )
    app.register_patient(RegisterPatient(details=details), me)
    for changed in (PatientDetails(postal_code="10115"), PatientDetails(name="Pat Q")):
        app.update_patient(UpdatePatient(patient_id=patient_id, details=changed), me)

    first = app.create_slot(
        CreateSlot(provider_id=provider, start=START, end=START + HALF_HOUR), staff
    ).id
    second = app.create_slot(
        CreateSlot(provider_id=provider, start=START + 4 * HALF_HOUR, end=START + 5 * HALF_HOUR),
        staff,
    ).id
    app.generate_slots(
        GenerateSlots(
            provider_id=provider,
            first_day=date(2030, 3, 5),
            last_day=date(2030, 3, 5),
            sessions=[WorkingSession(weekday=2, start=time(9), end=time(10), slot_minutes=30)],
        ),
        staff,
    )
    start, end = START + timedelta(days=1), START + timedelta(days=2)
    app.block_window(
        BlockWindow(provider_id=provider, start=start, end=end, reason="training"), staff
    )
    app.unblock_window(UnblockWindow(provider_id=provider, start=start, end=end), staff)

    # A hold booked, confirmed, moved, and the visit run to its end.
    hold = HoldAppointment(
        slot_id=first,
        appointment_type="in_person",
        reason="chest pain since Tuesday",
        symptoms=["palpitations"],
    )
    held = app.hold(hold, me).id
    app.book(BookAppointment(appointment_id=held), me)
    app.confirm(ConfirmAppointment(appointment_id=held), me)
    app.reschedule(
        RescheduleAppointment(appointment_id=held, new_slot_id=second, reason="moving to Hamburg"),
        me,
    )
    clock.set(START + 4 * HALF_HOUR)
    app.check_in(CheckIn(appointment_id=held), me)
    app.start(StartAppointment(appointment_id=held), staff)
    completion = CompleteAppointment(
        appointment_id=held,
        notes="resting ECG unremarkable",
        private_notes="mentions family history",
        vitals={"bp": "142/91"},
        follow_up=FollowUpRequest(interval_days=14, notes="repeat the ECG"),
    )
    app.complete(completion, staff)

    # A booking marked a no-show, reverted, then cancelled; its slot cancelled.
    later = START + 10 * HALF_HOUR
    third = app.create_slot(
        CreateSlot(provider_id=provider, start=later, end=later + HALF_HOUR), staff
    ).id
    # issue 14: its no-show fee (from the policy in force at booking) waived by the reversion;
    # a payment, partly refunded; an analyst's saved report.
    fees = SetFeePolicy(
        provider_id=provider, appointment_type="in_person", currency="EUR", no_show_fee=FEE
    )
    app.set_fee_policy(fees, staff)
    other = app.book(BookAppointment(slot_id=third, patient_id=patient_id), staff).id
    payment = RecordPayment(
        appointment_id=other, amount=FEE, currency="EUR", method="card", external_reference="r1"
    )
    paid = app.record_payment(payment, staff).id
    refund = RefundPayment(appointment_id=other, payment_id=paid, amount=FEE / 2, reason="other")
    app.refund_payment(refund, staff)
    report = SaveReport(title="week", measure="revenue", start_from=START, start_to=later)
    app.save_report(report, as_(Actor(uuid4(), Role.ANALYST)))
    clock.set(later + HALF_HOUR)
    app.mark_no_show(MarkNoShow(appointment_id=other), staff)
    app.revert_no_show(RevertNoShow(appointment_id=other, reason="was in the waiting room"), staff)
    app.cancel(CancelAppointment(appointment_id=other, reason="no longer coming"), staff)
    app.cancel_slot(CancelSlot(slot_id=third, reason="closed"), staff)

    # A hold left to run out.
    fourth = later + timedelta(days=1)
    lapsing = app.create_slot(
        CreateSlot(provider_id=provider, start=fourth, end=fourth + HALF_HOUR), staff
    ).id
    expiring = app.hold(
        HoldAppointment(slot_id=lapsing, appointment_type="in_person", hold_minutes=5), me
    ).id
    clock.advance(minutes=6)
    app.expire_hold(ExpireHold(appointment_id=expiring), as_system())

    # Issue 11: the visit rated, its follow-up booked; another visit's follow-up dismissed;
    # a series of two.
    app.rate_visit(RateVisit(appointment_id=held, rating=4, comment="thorough"), me)
    follow_up = FollowUp.create_id(held)
    due = fourth + timedelta(days=14)
    again = app.create_slot(CreateSlot(provider_id=provider, start=due, end=due + HALF_HOUR), staff)
    app.book_follow_up(BookFollowUp(follow_up_id=follow_up, slot_id=again.id), me)
    visit = fourth + timedelta(days=1)
    fifth = app.create_slot(
        CreateSlot(provider_id=provider, start=visit, end=visit + HALF_HOUR), staff
    ).id
    seen = app.book(BookAppointment(slot_id=fifth, patient_id=patient_id), staff).id
    clock.set(visit)
    app.check_in(CheckIn(appointment_id=seen), me)
    app.start(StartAppointment(appointment_id=seen), staff)
    ask = FollowUpRequest(interval_days=30, notes="review the results")
    app.complete(CompleteAppointment(appointment_id=seen, follow_up=ask), staff)
    app.dismiss_follow_up(DismissFollowUp(follow_up_id=FollowUp.create_id(seen)), staff)
    weekly = visit + timedelta(days=2)
    for week in range(2):
        at = weekly + timedelta(weeks=week)
        app.create_slot(CreateSlot(provider_id=provider, start=at, end=at + HALF_HOUR), staff)
    series = BookSeries(
        provider_id=provider,
        first_start=weekly,
        rrule="FREQ=WEEKLY;COUNT=2",
        mode="all_or_nothing",
        patient_id=patient_id,
    )
    app.book_series(series, staff)

    # A legal hold set and released, then the patient erased.
    hold_on = SetLegalHold(patient_id=patient_id, held=True, reason="litigation 2030-17")
    app.set_legal_hold(hold_on, staff)
    app.set_legal_hold(SetLegalHold(patient_id=patient_id, held=False), staff)
    if before_erasure is not None:
        before_erasure()
    erasure = ErasePatient(patient_id=patient_id, reason=ErasureReason.PATIENT_REQUEST)
    app.erase_patient(erasure, staff)
