"""What a reader sees of an appointment's account: entries by id, codes and amounts only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec


class PaymentView(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    amount: Decimal
    currency: str
    method: str
    refunded: Decimal


class FeeView(msgspec.Struct, frozen=True, kw_only=True):
    fee_id: UUID
    kind: str
    amount: Decimal
    currency: str
    waived: bool


class Balance(msgspec.Struct, frozen=True, kw_only=True):
    """Per currency: paid, refunded, net paid, and fees standing (charged, not waived)."""

    currency: str
    paid: Decimal
    refunded: Decimal
    net: Decimal
    fees_due: Decimal


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    appointment_id: UUID
    payments: list[PaymentView]
    fees: list[FeeView]
    balances: list[Balance]
    as_of: datetime
