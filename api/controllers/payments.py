"""Payments, refunds, fees (issue 14): staff and the system record them, a patient reads their
own appointment's account. Amounts are decimals with an ISO 4217 currency; no card data."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from api.deps import Injected, MinPosition, reads
from api.openapi import COMMAND, FOUND_OR_NOT, GUARDED, documented
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.payments.messages import (
    AppointmentType,
    Currency,
    RecordPayment,
    Reference,
    RefundPayment,
    SetFeePolicy,
    WaiveFee,
)
from commands.payments.views import AccountView
from commands.scheduling import Scheduling
from commands.structs import CommandResult
from domain.actor import Actor
from projections.scheduling import SchedulingProjection


class PaymentBody(Body, frozen=True, kw_only=True):
    amount: Decimal
    currency: Currency
    method: Literal["card", "cash", "insurance", "other"]
    external_reference: Reference


class RefundBody(Body, frozen=True, kw_only=True):
    """`amount` left out: all that is left of the payment."""

    reason: Literal[
        "patient_request",
        "cancelled_by_provider",
        "duplicate",
        "billing_error",
        "goodwill",
        "other",
    ]
    amount: Decimal | None = None


class WaiverBody(Body, frozen=True, kw_only=True):
    reason: Literal["hardship", "emergency", "provider_error", "first_occurrence", "other"]


class FeePolicyBody(Body, frozen=True, kw_only=True):
    appointment_type: AppointmentType
    currency: Currency
    late_cancellation_fee: Decimal | None = None
    no_show_fee: Decimal | None = None


class PaymentController(Controller):
    path = "/v1/appointments/{appointment_id:uuid}"
    tags = ["payments"]

    @post(
        "/payments",
        status_code=201,
        sync_to_thread=True,
        summary="Record a payment for the appointment (staff, system)",
        dto=StrictBody[PaymentBody],
        return_dto=None,
        **documented("recordPayment", *COMMAND),
    )
    def record(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[PaymentBody],
    ) -> CommandResult:
        command = RecordPayment(
            appointment_id=appointment_id,
            amount=data.amount,
            currency=data.currency,
            method=data.method,
            external_reference=data.external_reference,
        )
        return scheduling.record_payment(command, context)

    @post(
        "/payments/{payment_id:uuid}/refunds",
        status_code=201,
        sync_to_thread=True,
        summary="Refund a payment, fully or in part, never more than is left of it",
        dto=StrictBody[RefundBody],
        return_dto=None,
        **documented("refundPayment", *COMMAND),
    )
    def refund(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        payment_id: FromPath[UUID],
        data: JSONBody[RefundBody],
    ) -> CommandResult:
        command = RefundPayment(
            appointment_id=appointment_id,
            payment_id=payment_id,
            amount=data.amount,
            reason=data.reason,
        )
        return scheduling.refund_payment(command, context)

    @post(
        "/fees/{fee_id:uuid}/waive",
        status_code=200,
        sync_to_thread=True,
        summary="Waive a late-cancellation or no-show fee, with a reason (staff)",
        dto=StrictBody[WaiverBody],
        return_dto=None,
        **documented("waiveFee", *COMMAND),
    )
    def waive(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        fee_id: FromPath[UUID],
        data: JSONBody[WaiverBody],
    ) -> CommandResult:
        command = WaiveFee(appointment_id=appointment_id, fee_id=fee_id, reason=data.reason)
        return scheduling.waive_fee(command, context)

    @get(
        "/account",
        sync_to_thread=True,
        summary="The appointment's payments, refunds and fees, with balances per currency",
        dependencies={"position": reads(SchedulingProjection.name)},
        **documented("getAccount", *GUARDED, *FOUND_OR_NOT),
    )
    def account(
        self,
        scheduling: Injected[Scheduling],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        appointment_id: FromPath[UUID],
    ) -> AccountView:
        """Read from the event store, so it is current; `min_position` is accepted like on
        every read (it waits on the scheduling model). Someone else's appointment is 404."""
        return scheduling.account_view(appointment_id, actor)


class FeePolicyController(Controller):
    path = "/v1/providers/{provider_id:uuid}"
    tags = ["payments"]

    @post(
        "/fee-policy",
        status_code=200,
        sync_to_thread=True,
        summary="Set the provider's late-cancellation and no-show fees for an appointment type",
        dto=StrictBody[FeePolicyBody],
        return_dto=None,
        **documented("setFeePolicy", *COMMAND),
    )
    def set_policy(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        provider_id: FromPath[UUID],
        data: JSONBody[FeePolicyBody],
    ) -> CommandResult:
        command = SetFeePolicy(
            provider_id=provider_id,
            appointment_type=data.appointment_type,
            currency=data.currency,
            late_cancellation_fee=data.late_cancellation_fee,
            no_show_fee=data.no_show_fee,
        )
        return scheduling.set_fee_policy(command, context)
