"""Payments capability (issue 14): staff and the system record payments and refunds for an
appointment, set each provider's fee policy, and waive fees; a patient reads their own account.
Each command saves what it touched in one atomic write."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from commands.access import require_role, require_visible
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.payments.fees import account_of
from commands.payments.messages import RecordPayment, RefundPayment, SetFeePolicy, WaiveFee
from commands.payments.views import AccountView, Balance, FeeView, PaymentView
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.appointment import Appointment
from domain.errors import NotFoundError
from domain.fees import FeePolicy, FeeSchedule, schedule_id
from domain.payment import Account, PaymentMethod, RefundReason, WaiverReason, account_id
from domain.provider import Provider

RECORDERS = (Role.STAFF, Role.SYSTEM)
READERS = (Role.PATIENT, Role.PROVIDER, Role.STAFF, Role.AUDITOR)
ZERO = Decimal("0.00")


class PaymentCommands(SlotwiseApplication):
    def _visit(self, ws: Workspace, appointment_id: UUID, actor: Actor) -> Appointment:
        appointment = ws.get(Appointment, appointment_id, "appointment")
        require_visible(actor, appointment)
        return appointment

    def _account(self, ws: Workspace, appointment_id: UUID, actor: Actor) -> Account:
        appointment = self._visit(ws, appointment_id, actor)
        account = ws.find(Account, account_id(appointment.id))
        if account is None:
            raise NotFoundError(f"appointment {appointment_id} has no payments or fees")
        return account

    @use_case
    def record_payment(
        self, cmd: RecordPayment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        appointment = self._visit(ws, cmd.appointment_id, ctx.actor)
        require_role(ctx.actor, *RECORDERS)
        account = account_of(ws, appointment, meta)
        payment_id = uuid4()
        account.record_payment(
            payment_id,
            cmd.amount,
            cmd.currency,
            PaymentMethod(cmd.method),
            cmd.external_reference,
            now,
            meta,
        )
        ids = {"appointment_id": appointment.id, "account_id": account.id}
        return Outcome(payment_id, ws.touched(), ids)

    @use_case
    def refund_payment(
        self, cmd: RefundPayment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        account = self._account(ws, cmd.appointment_id, ctx.actor)
        require_role(ctx.actor, *RECORDERS)
        refund_id = uuid4()
        account.refund(refund_id, cmd.payment_id, cmd.amount, RefundReason(cmd.reason), now, meta)
        ids = {"appointment_id": cmd.appointment_id, "payment_id": cmd.payment_id}
        return Outcome(refund_id, ws.touched(), ids)

    @use_case
    def waive_fee(
        self, cmd: WaiveFee, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        account = self._account(ws, cmd.appointment_id, ctx.actor)
        require_role(ctx.actor, Role.STAFF)
        account.waive_fee(cmd.fee_id, WaiverReason(cmd.reason), now, meta)
        return Outcome(cmd.fee_id, ws.touched(), {"appointment_id": cmd.appointment_id})

    @use_case
    def set_fee_policy(
        self, cmd: SetFeePolicy, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, Role.STAFF)
        ws = Workspace(self)
        ws.get(Provider, cmd.provider_id, "provider")
        schedule = ws.get_or_create(
            FeeSchedule,
            schedule_id(cmd.provider_id),
            lambda: FeeSchedule.open(cmd.provider_id, meta),
        )
        policy = FeePolicy(cmd.currency, cmd.late_cancellation_fee, cmd.no_show_fee)
        schedule.set_policy(cmd.appointment_type, policy, meta)
        return Outcome(schedule.id, ws.touched(), {"provider_id": cmd.provider_id})

    def account_view(self, appointment_id: UUID, actor: Actor) -> AccountView:
        """The appointment's account as of now; someone else's appointment is not found."""
        require_role(actor, *READERS)
        ws = Workspace(self)
        appointment = self._visit(ws, appointment_id, actor)
        account = ws.find(Account, account_id(appointment.id))
        payments = account.entries.payments if account is not None else {}
        fees = account.entries.fees if account is not None else {}
        totals: dict[str, dict[str, Decimal]] = defaultdict(
            lambda: {"paid": ZERO, "refunded": ZERO, "fees_due": ZERO}
        )
        for p in payments.values():
            totals[p.currency]["paid"] += p.amount
            totals[p.currency]["refunded"] += p.refunded
        for f in fees.values():
            totals[f.currency]["fees_due"] += ZERO if f.waived else f.amount
        return AccountView(
            appointment_id=appointment.id,
            payments=[
                PaymentView(
                    payment_id=pid,
                    amount=p.amount,
                    currency=p.currency,
                    method=p.method.value,
                    refunded=p.refunded,
                )
                for pid, p in payments.items()
            ],
            fees=[
                FeeView(
                    fee_id=fid,
                    kind=f.kind.value,
                    amount=f.amount,
                    currency=f.currency,
                    waived=f.waived,
                )
                for fid, f in fees.items()
            ],
            balances=[
                Balance(currency=c, net=t["paid"] - t["refunded"], **t)
                for c, t in sorted(totals.items())
            ],
            as_of=self.clock.now(),
        )
