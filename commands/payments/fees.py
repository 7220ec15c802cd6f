"""The fees an appointment's policy charges: looked up when it is scheduled, charged to its
account in the same atomic save as the late cancellation or no-show that incurs them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from uuid import UUID, uuid4

from commands.workspace import Workspace
from domain.actor import EventMeta
from domain.appointment import Appointment, BookingFees
from domain.fees import FeeKind, FeeSchedule, schedule_id
from domain.payment import Account, WaiverReason, account_id
from domain.provider import Provider


def booking_fees(ws: Workspace, provider_id: UUID, appointment_type: str) -> BookingFees:
    """The provider's consultation fee and fee policy for this type, as they are now."""
    provider = ws.find(Provider, provider_id)
    fee = provider.fee if provider is not None else None
    amount, currency = fee or (None, None)
    schedule = ws.find(FeeSchedule, schedule_id(provider_id))
    policy = schedule.policy(appointment_type) if schedule is not None else None
    if policy is None:
        return BookingFees(amount, currency)
    return BookingFees(amount, currency, policy.late_cancellation, policy.no_show, policy.currency)


def account_of(ws: Workspace, appointment: Appointment, meta: EventMeta) -> Account:
    open_new = partial(
        Account.open,
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        provider_id=appointment.provider_id,
        appointment_type=appointment.appointment_type,
        meta=meta,
    )
    return ws.get_or_create(Account, account_id(appointment.id), open_new)


def charge(
    ws: Workspace,
    appointment: Appointment,
    kind: FeeKind,
    fee: tuple[Decimal, str] | None,
    meta: EventMeta,
    now: datetime,
) -> None:
    """Charge `fee` (amount, currency) when there is one; a zero fee is no fee."""
    if fee is None or fee[0] == 0:
        return
    amount, currency = fee
    account_of(ws, appointment, meta).charge_fee(uuid4(), kind, amount, currency, now, meta)


def no_show_fee(appointment: Appointment) -> tuple[Decimal, str] | None:
    fees = appointment.fees
    if fees.no_show_fee is None or fees.policy_currency is None:
        return None
    return fees.no_show_fee, fees.policy_currency


def waive_reverted_no_show(
    ws: Workspace, appointment: Appointment, meta: EventMeta, now: datetime
) -> None:
    """A no-show staff reverted was not one: its standing fee is waived."""
    account = ws.find(Account, account_id(appointment.id))
    fee_id = account.open_fee(FeeKind.NO_SHOW) if account is not None else None
    if account is not None and fee_id is not None:
        account.waive_fee(fee_id, WaiverReason.NO_SHOW_REVERTED, now, meta)
