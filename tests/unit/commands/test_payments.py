"""Payments, refunds and policy fees (issue 14): recorded by staff and the system, read by the
patient whose appointment it is, never by anyone else; refunds never exceed what was paid; fees
come from the policy in force when the appointment was scheduled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands.appointments.messages import CancelAppointment, MarkNoShow, RevertNoShow
from commands.directory.messages import ProviderProfile, UpdateProvider
from commands.payments.messages import RecordPayment, RefundPayment, SetFeePolicy, WaiveFee
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.appointment import Appointment
from domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from domain.payment import Account, RefundTooLargeError, account_id
from tests.builders import (
    TEN,
    all_events,
    appointment_of,
    as_,
    as_patient,
    as_staff,
    as_system,
    create_slot,
    patient_books,
    register_patient,
)
from tests.fakes import FixedClock

ANALYST = Actor(uuid4(), Role.ANALYST)


def pay(app: Scheduling, appointment_id: UUID, amount: str, **fields: Any) -> UUID:
    command = RecordPayment(
        appointment_id=appointment_id,
        amount=Decimal(amount),
        currency=fields.pop("currency", "EUR"),
        method=fields.pop("method", "card"),
        external_reference=fields.pop("reference", "ch_3NqX9"),
    )
    return app.record_payment(command, fields.pop("ctx", as_staff())).id


def refund(app: Scheduling, appointment_id: UUID, payment_id: UUID, amount: str | None) -> None:
    command = RefundPayment(
        appointment_id=appointment_id,
        payment_id=payment_id,
        amount=None if amount is None else Decimal(amount),
        reason="patient_request",
    )
    app.refund_payment(command, as_staff())


def set_policy(app: Scheduling, provider_id: UUID, late: str, no_show: str) -> None:
    command = SetFeePolicy(
        provider_id=provider_id,
        appointment_type="in_person",
        currency="EUR",
        late_cancellation_fee=Decimal(late),
        no_show_fee=Decimal(no_show),
    )
    app.set_fee_policy(command, as_staff())


@pytest.fixture
def booked(app: Scheduling, patient_id: UUID, slot_id: UUID) -> UUID:
    return patient_books(app, patient_id, slot_id)


def test_the_patient_reads_their_own_account_and_others_find_nothing(
    app: Scheduling, booked: UUID, patient_id: UUID
) -> None:
    payment = pay(app, booked, "80.00")
    mine = app.account_view(booked, Actor(patient_id, Role.PATIENT))
    assert [(p.payment_id, p.amount, p.method) for p in mine.payments] == [
        (payment, Decimal("80.00"), "card")
    ]
    assert mine.balances[0].net == Decimal("80.00")
    stranger = Actor(register_patient(app), Role.PATIENT)
    with pytest.raises(NotFoundError):
        app.account_view(booked, stranger)
    with pytest.raises(NotFoundError):
        app.account_view(booked, Actor(uuid4(), Role.PROVIDER))
    with pytest.raises(ForbiddenError):
        app.account_view(booked, ANALYST)


def test_patients_do_not_record_payments(app: Scheduling, booked: UUID, patient_id: UUID) -> None:
    with pytest.raises(ForbiddenError):
        pay(app, booked, "10.00", ctx=as_patient(patient_id))
    pay(app, booked, "10.00", ctx=as_system())


def test_refunds_partial_then_full_never_more_than_paid(app: Scheduling, booked: UUID) -> None:
    payment = pay(app, booked, "100.00")
    refund(app, booked, payment, "30.00")
    with pytest.raises(RefundTooLargeError):
        refund(app, booked, payment, "70.01")
    refund(app, booked, payment, None)  # all that is left: 70.00
    with pytest.raises(RefundTooLargeError):
        refund(app, booked, payment, None)
    refunds = [e for e in all_events(app) if isinstance(e, Account.Refunded)]
    assert [(e.amount, e.full, e.method, e.currency) for e in refunds] == [
        (Decimal("30.00"), False, "card", "EUR"),
        (Decimal("70.00"), True, "card", "EUR"),
    ]
    balance = app.account_view(booked, as_staff().actor).balances[0]
    assert (balance.paid, balance.refunded, balance.net) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    )


def test_a_refund_is_in_its_payments_currency(app: Scheduling, booked: UUID) -> None:
    euros = pay(app, booked, "50.00")
    pay(app, booked, "20.00", currency="USD", method="cash", reference="till-7")
    refund(app, booked, euros, "50.00")
    balances = {b.currency: b for b in app.account_view(booked, as_staff().actor).balances}
    assert balances["EUR"].net == Decimal("0.00")
    assert balances["USD"].net == Decimal("20.00")


@pytest.mark.parametrize(
    "reference", ["4111111111111111", "card 4111 1111", "x" * 65, "-leading", "pan:378282246310005"]
)
def test_card_numbers_and_free_text_are_refused_as_references(
    app: Scheduling, booked: UUID, reference: str
) -> None:
    with pytest.raises(ValidationError):
        pay(app, booked, "10.00", reference=reference)


@pytest.mark.parametrize("amount", ["0", "-1.00", "10.001"])
def test_a_payment_needs_a_positive_amount_in_cents(
    app: Scheduling, booked: UUID, amount: str
) -> None:
    with pytest.raises(ValidationError):
        pay(app, booked, amount)


def _fees(app: Scheduling) -> list[tuple[str, Decimal, str]]:
    return [
        (e.kind, e.amount, e.currency) for e in all_events(app) if isinstance(e, Account.FeeCharged)
    ]


def test_a_late_cancellation_charges_the_fee_in_force_when_it_was_booked(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    set_policy(app, provider_id, "25.00", "40.00")
    appointment_id = patient_books(app, patient_id, slot_id)
    set_policy(app, provider_id, "99.00", "99.00")  # later: does not reprice the booking
    clock.set(TEN - timedelta(hours=2))
    app.cancel(CancelAppointment(appointment_id=appointment_id, reason="ill"), as_staff())
    assert _fees(app) == [("late_cancellation", Decimal("25.00"), "EUR")]
    cancelled = [e for e in all_events(app) if type(e).__name__ == "Cancelled"][-1]
    assert (cancelled.fee, cancelled.currency) == (Decimal("25.00"), "EUR")


def test_an_early_cancellation_charges_nothing(
    app: Scheduling, provider_id: UUID, patient_id: UUID
) -> None:
    set_policy(app, provider_id, "25.00", "40.00")
    later = create_slot(app, provider_id, TEN + timedelta(days=3))
    appointment_id = patient_books(app, patient_id, later)
    app.cancel(CancelAppointment(appointment_id=appointment_id, reason="x"), as_staff())
    assert _fees(app) == []
    assert app.load_or_none(Account, account_id(appointment_id)) is None


def test_a_no_show_fee_is_waived_when_staff_revert_the_no_show(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    set_policy(app, provider_id, "0", "40.00")
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_staff())
    assert _fees(app) == [("no_show", Decimal("40.00"), "EUR")]
    app.revert_no_show(RevertNoShow(appointment_id=appointment_id, reason="late bus"), as_staff())
    view = app.account_view(appointment_id, Actor(patient_id, Role.PATIENT))
    assert [(f.kind, f.waived) for f in view.fees] == [("no_show", True)]
    assert view.balances[0].fees_due == Decimal("0.00")


def test_staff_waive_a_fee_with_a_reason_once(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    set_policy(app, provider_id, "0", "40.00")
    appointment_id = patient_books(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_staff())
    fee_id = app.account_view(appointment_id, as_staff().actor).fees[0].fee_id
    waive = WaiveFee(appointment_id=appointment_id, fee_id=fee_id, reason="hardship")
    with pytest.raises(ForbiddenError):
        app.waive_fee(waive, as_patient(patient_id))
    app.waive_fee(waive, as_staff())
    with pytest.raises(ConflictError):
        app.waive_fee(waive, as_staff())


def test_the_booking_records_the_consultation_fee_of_its_time(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    profile = ProviderProfile(fee_amount=Decimal("60.00"), fee_currency="EUR")
    app.update_provider(UpdateProvider(provider_id=provider_id, profile=profile), as_staff())
    appointment_id = patient_books(app, patient_id, slot_id)
    later = ProviderProfile(fee_amount=Decimal("90.00"))
    app.update_provider(UpdateProvider(provider_id=provider_id, profile=later), as_staff())
    fees = appointment_of(app, appointment_id).fees
    assert (fees.fee_amount, fees.fee_currency) == (Decimal("60.00"), "EUR")


def test_a_booking_recorded_before_fees_reads_with_none() -> None:
    state: dict[str, Any] = {"patient_id": uuid4()}
    Appointment.Scheduled.upcast_v2_v3(state)
    assert state == {
        "patient_id": state["patient_id"],
        "fee_amount": None,
        "fee_currency": None,
        "late_cancellation_fee": None,
        "no_show_fee": None,
        "policy_currency": None,
    }


def test_only_staff_set_fee_policies_for_known_providers(
    app: Scheduling, provider_id: UUID, patient_id: UUID
) -> None:
    command = SetFeePolicy(provider_id=provider_id, appointment_type="video", currency="EUR")
    with pytest.raises(ForbiddenError):
        app.set_fee_policy(command, as_(Actor(provider_id, Role.PROVIDER)))
    unknown = SetFeePolicy(provider_id=uuid4(), appointment_type="video", currency="EUR")
    with pytest.raises(NotFoundError):
        app.set_fee_policy(unknown, as_staff())
