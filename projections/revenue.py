"""Revenue rows of the analytics read model (issue 14): an appointment's account, its payments,
refunds and fees, each row keyed by the entry's own id and written only by events of its
Account, so replays and any order across aggregates leave them right. Ids, codes, times and
amounts only: the external reference and anything about the patient stay out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate

from domain.payment import Account
from domain.saved_report import SavedReport
from projections.changes import Change, Handlers, Update, Upsert

ACCOUNTS = "an_accounts"
PAYMENTS = "an_payments"
REFUNDS = "an_refunds"
FEES = "an_fees"
SAVED_REPORTS = "an_saved_reports"
REVENUE_TABLES = (ACCOUNTS, PAYMENTS, REFUNDS, FEES, SAVED_REPORTS)

Stamp = Callable[[Aggregate.Event], dict[str, Any]]


def register_revenue(handlers: Handlers[list[Change]], stamp: Stamp) -> None:
    """Register the Account handlers on the analytics projection's handlers."""
    on = handlers.on

    @on(Account.Opened)
    def _(e: Account.Opened) -> list[Change]:
        values = {
            "appointment_id": e.appointment_id,
            "patient_id": e.patient_id,
            "provider_id": e.provider_id,
            "appointment_type": e.appointment_type,
            **stamp(e),
        }
        return [Upsert(ACCOUNTS, {"id": e.originator_id}, values)]

    @on(Account.PaymentRecorded)
    def _(e: Account.PaymentRecorded) -> list[Change]:
        values = {
            "account_id": e.originator_id,
            "amount": e.amount,
            "currency": e.currency,
            "method": e.method,
            "paid_at": e.at,
        }
        return [Upsert(PAYMENTS, {"id": e.payment_id}, values)]

    @on(Account.Refunded)
    def _(e: Account.Refunded) -> list[Change]:
        values = {
            "account_id": e.originator_id,
            "payment_id": e.payment_id,
            "amount": e.amount,
            "currency": e.currency,
            "method": e.method,
            "full_refund": e.full,
            "reason": e.reason,
            "refunded_at": e.at,
        }
        return [Upsert(REFUNDS, {"id": e.refund_id}, values)]

    @on(Account.FeeCharged)
    def _(e: Account.FeeCharged) -> list[Change]:
        values = {
            "account_id": e.originator_id,
            "kind": e.kind,
            "amount": e.amount,
            "currency": e.currency,
            "charged_at": e.at,
            "waived_at": None,
            "waiver_reason": None,
        }
        return [Upsert(FEES, {"id": e.fee_id}, values)]

    @on(Account.FeeWaived)
    def _(e: Account.FeeWaived) -> list[Change]:
        return [Update(FEES, {"id": e.fee_id}, {"waived_at": e.at, "waiver_reason": e.reason})]

    @on(SavedReport.Saved)
    def _(e: SavedReport.Saved) -> list[Change]:
        values = {
            "owner_id": e.owner_id,
            "name": e.name,
            "measure": e.measure,
            "group_by": e.group_by,
            "provider_id": e.provider_id,
            "specialty": e.specialty,
            "start_from": e.start_from,
            "start_to": e.start_to,
            "saved_at": e.timestamp,
        }
        return [Upsert(SAVED_REPORTS, {"id": e.originator_id}, values)]
