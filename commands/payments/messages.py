"""Command Structs of payments, refunds and fees (issue 14)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from commands.structs import Command

Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
AppointmentType = Literal["in_person", "video", "phone"]


class RecordPayment(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    amount: Decimal
    currency: Currency
    method: Literal["card", "cash", "insurance", "other"]
    external_reference: Reference


class RefundPayment(Command, frozen=True, kw_only=True):
    """Refund all that is left of a payment, or `amount` of it."""

    appointment_id: UUID
    payment_id: UUID
    reason: Literal[
        "patient_request",
        "cancelled_by_provider",
        "duplicate",
        "billing_error",
        "goodwill",
        "other",
    ]
    amount: Decimal | None = None


class WaiveFee(Command, frozen=True, kw_only=True):
    appointment_id: UUID
    fee_id: UUID
    reason: Literal["hardship", "emergency", "provider_error", "first_occurrence", "other"]


class SetFeePolicy(Command, frozen=True, kw_only=True):
    """A provider's late-cancellation and no-show fees for one appointment type; null: none."""

    provider_id: UUID
    appointment_type: AppointmentType
    currency: Currency
    late_cancellation_fee: Decimal | None = None
    no_show_fee: Decimal | None = None
