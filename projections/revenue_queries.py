"""Revenue measures (issue 14), their DTOs; definitions and denominators also in
docs/analytics.md.

Money counts when it moves: a payment in the period of its own recorded time, a refund in the
period of the refund's time (so a day's refunds may exceed its payments and its net be
negative). Everything is per currency and never summed across currencies.

- ``gross``: the sum of payments; ``refunds``: the sum of refunds; ``net`` = gross - refunds.
- ``paid_visits``: distinct appointments with at least one payment in the period.
- ``average_per_paid_visit`` = net / paid_visits; null when paid_visits is 0.
- A trend compares with the previous period of equal length, ending where this one starts:
  change = (this - previous) / |previous|, null when previous is 0.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

import msgspec

from projections.analytics_queries import ratio

CENTS = Decimal("0.01")


class RevenueGrouping(StrEnum):
    DAY = "day"
    METHOD = "method"
    SERVICE = "service"
    PROVIDER = "provider"
    SPECIALTY = "specialty"


class Tally(msgspec.Struct, frozen=True, kw_only=True):
    """What the store sums for one currency and group."""

    gross: Decimal
    refunds: Decimal
    payments: int
    refund_count: int
    paid_visits: int


NO_MONEY = Tally(gross=Decimal(0), refunds=Decimal(0), payments=0, refund_count=0, paid_visits=0)


class RevenueFigures(msgspec.Struct, frozen=True, kw_only=True):
    gross: Decimal
    refunds: Decimal
    net: Decimal
    payments: int
    refund_count: int
    paid_visits: int
    average_per_paid_visit: Decimal | None

    @classmethod
    def of(cls, tally: Tally) -> RevenueFigures:
        net = Decimal(tally.gross) - Decimal(tally.refunds)
        average = None
        if tally.paid_visits:
            average = (net / tally.paid_visits).quantize(CENTS)
        return cls(
            gross=Decimal(tally.gross).quantize(CENTS),
            refunds=Decimal(tally.refunds).quantize(CENTS),
            net=net.quantize(CENTS),
            payments=tally.payments,
            refund_count=tally.refund_count,
            paid_visits=tally.paid_visits,
            average_per_paid_visit=average,
        )


def change(now: Decimal | int, before: Decimal | int) -> Decimal | None:
    """(now - before) / |before| to four places; null when before is 0."""
    return ratio(Decimal(now) - Decimal(before), abs(Decimal(before)))


class Trend(msgspec.Struct, frozen=True, kw_only=True):
    """The previous equal period's figures and the relative change of each headline."""

    previous: RevenueFigures
    gross_change: Decimal | None
    net_change: Decimal | None
    paid_visits_change: Decimal | None

    @classmethod
    def of(cls, now: RevenueFigures, previous: RevenueFigures) -> Trend:
        return cls(
            previous=previous,
            gross_change=change(now.gross, previous.gross),
            net_change=change(now.net, previous.net),
            paid_visits_change=change(now.paid_visits, previous.paid_visits),
        )


class RevenueGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One group; only the fields of the chosen grouping are set. ``day`` is in the provider's
    zone; ``service`` is the appointment type."""

    day: date | None = None
    method: str | None = None
    service: str | None = None
    provider_id: UUID | None = None
    provider_name: str | None = None
    specialty: str | None = None
    figures: RevenueFigures


class CurrencyRevenue(msgspec.Struct, frozen=True, kw_only=True):
    currency: str
    totals: RevenueFigures
    trend: Trend
    groups: list[RevenueGroup]


class RevenueReport(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    previous_from: datetime
    group_by: RevenueGrouping | None
    currencies: list[CurrencyRevenue]
