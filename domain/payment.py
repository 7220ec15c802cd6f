"""An appointment's account (issue 14): the payments made for it, their refunds, and the fees its
policy charged (late cancellation, no-show) or staff waived. One aggregate per appointment; each
entry carries its own ISO 4217 currency, and a refund is in the currency of its payment.

No card data is ever kept: a payment names its method and the payment processor's reference,
which must be a short token and never looks like a card number. Reasons are codes, so no
free text about a patient enters these events; amounts are Decimals with two places."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ConflictError, NotFoundError, ValidationError
from domain.fees import FeeKind
from domain.money import check_amount, check_currency

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
DIGITS = re.compile(r"\d{12,}")


class PaymentMethod(StrEnum):
    CARD = "card"
    CASH = "cash"
    INSURANCE = "insurance"
    OTHER = "other"


class RefundReason(StrEnum):
    PATIENT_REQUEST = "patient_request"
    CANCELLED_BY_PROVIDER = "cancelled_by_provider"
    DUPLICATE = "duplicate"
    BILLING_ERROR = "billing_error"
    GOODWILL = "goodwill"
    OTHER = "other"


class WaiverReason(StrEnum):
    HARDSHIP = "hardship"
    EMERGENCY = "emergency"
    PROVIDER_ERROR = "provider_error"
    FIRST_OCCURRENCE = "first_occurrence"
    NO_SHOW_REVERTED = "no_show_reverted"
    OTHER = "other"


class RefundTooLargeError(ConflictError):
    """A refund may not exceed what is left of the payment it returns."""


def account_id(appointment_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"slotwise:account:{appointment_id}")


def check_reference(reference: str) -> str:
    """A processor's reference: a short token. A long run of digits is refused, as it may be a
    card number (PAN), which is never stored."""
    if not REFERENCE.fullmatch(reference):
        raise ValidationError(
            "external_reference must be 1-64 letters, digits or . _ : - starting alphanumeric"
        )
    if DIGITS.search(reference):
        raise ValidationError("external_reference must not hold a card number")
    return reference


@dataclass
class Payment:
    amount: Decimal
    currency: str
    method: PaymentMethod
    refunded: Decimal = Decimal("0.00")

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded


@dataclass
class Fee:
    kind: FeeKind
    amount: Decimal
    currency: str
    waived: bool = False


@dataclass
class Entries:
    payments: dict[UUID, Payment] = field(default_factory=dict)
    fees: dict[UUID, Fee] = field(default_factory=dict)


class Account(Aggregate):
    class Opened(Aggregate.Created):
        appointment_id: UUID
        patient_id: UUID
        provider_id: UUID
        appointment_type: str
        meta: EventMeta

    @event(Opened)
    def __init__(
        self,
        appointment_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        appointment_type: str,
        meta: EventMeta,
    ) -> None:
        self.appointment_id = appointment_id
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.appointment_type = appointment_type
        self.entries = Entries()

    @classmethod
    def open(
        cls,
        appointment_id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        appointment_type: str,
        meta: EventMeta,
    ) -> Account:
        return cls._create(
            cls.Opened,
            id=account_id(appointment_id),
            appointment_id=appointment_id,
            patient_id=patient_id,
            provider_id=provider_id,
            appointment_type=appointment_type,
            meta=meta,
        )

    def record_payment(
        self,
        payment_id: UUID,
        amount: Decimal,
        currency: str,
        method: PaymentMethod,
        reference: str,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        if check_amount("amount", amount) == 0:
            raise ValidationError("amount must be more than zero")
        check_currency("currency", currency)
        reference = check_reference(reference)
        self._paid(payment_id, amount, currency, method.value, reference, at, meta)

    class PaymentRecorded(Aggregate.Event):
        payment_id: UUID
        amount: Decimal
        currency: str
        method: str
        external_reference: str
        at: datetime
        meta: EventMeta

    @event(PaymentRecorded)
    def _paid(
        self,
        payment_id: UUID,
        amount: Decimal,
        currency: str,
        method: str,
        external_reference: str,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        self.entries.payments[payment_id] = Payment(amount, currency, PaymentMethod(method))

    def refund(
        self,
        refund_id: UUID,
        payment_id: UUID,
        amount: Decimal | None,
        reason: RefundReason,
        at: datetime,
        meta: EventMeta,
    ) -> Decimal:
        """Refund `amount` of a payment, or all that is left of it when `amount` is None."""
        payment = self.entries.payments.get(payment_id)
        if payment is None:
            raise NotFoundError(f"payment {payment_id} not found")
        if amount is not None and amount == 0:
            raise ValidationError("amount must be more than zero")
        left = payment.refundable
        wanted = left if amount is None else check_amount("amount", amount)
        if wanted <= 0:
            raise RefundTooLargeError("nothing is left of this payment to refund")
        if wanted > left:
            raise RefundTooLargeError(f"at most {left} {payment.currency} is left to refund")
        self._refunded(
            refund_id=refund_id,
            payment_id=payment_id,
            amount=wanted,
            currency=payment.currency,
            method=payment.method.value,
            full=wanted == left,
            reason=reason.value,
            at=at,
            meta=meta,
        )
        return wanted

    class Refunded(Aggregate.Event):
        refund_id: UUID
        payment_id: UUID
        amount: Decimal
        currency: str
        method: str
        full: bool
        reason: str
        at: datetime
        meta: EventMeta

    @event(Refunded)
    def _refunded(
        self,
        refund_id: UUID,
        payment_id: UUID,
        amount: Decimal,
        currency: str,
        method: str,
        full: bool,
        reason: str,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        self.entries.payments[payment_id].refunded += amount

    def charge_fee(
        self,
        fee_id: UUID,
        kind: FeeKind,
        amount: Decimal,
        currency: str,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        check_amount("fee", amount)
        check_currency("currency", currency)
        self._fee_charged(fee_id, kind.value, amount, currency, at, meta)

    class FeeCharged(Aggregate.Event):
        fee_id: UUID
        kind: str
        amount: Decimal
        currency: str
        at: datetime
        meta: EventMeta

    @event(FeeCharged)
    def _fee_charged(
        self,
        fee_id: UUID,
        kind: str,
        amount: Decimal,
        currency: str,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        self.entries.fees[fee_id] = Fee(FeeKind(kind), amount, currency)

    def open_fee(self, kind: FeeKind) -> UUID | None:
        """The fee of this kind still standing (charged, not waived), if any."""
        for fee_id, fee in self.entries.fees.items():
            if fee.kind is kind and not fee.waived:
                return fee_id
        return None

    def waive_fee(self, fee_id: UUID, reason: WaiverReason, at: datetime, meta: EventMeta) -> None:
        fee = self.entries.fees.get(fee_id)
        if fee is None:
            raise NotFoundError(f"fee {fee_id} not found")
        if fee.waived:
            raise ConflictError("the fee is waived already")
        self._fee_waived(fee_id, reason.value, at, meta)

    class FeeWaived(Aggregate.Event):
        fee_id: UUID
        reason: str
        at: datetime
        meta: EventMeta

    @event(FeeWaived)
    def _fee_waived(self, fee_id: UUID, reason: str, at: datetime, meta: EventMeta) -> None:
        self.entries.fees[fee_id].waived = True
