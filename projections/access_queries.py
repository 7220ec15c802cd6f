"""Access (issue 14): third-next-available, the days from a reference time to the start of the
third free seat, per provider and appointment type (also in docs/analytics.md).

A seat is free at the reference time when its slot existed then, was open then, starts at or
after it, offers the appointment type, and had a seat neither held nor booked then (seats are
taken from the hold or booking to their release). Free seats are counted in order of their
slots' starts, a slot with two free seats giving two; the third one's slot start is
`third_available_at`. Seats are looked for within HORIZON_DAYS of the reference; fewer than
three there gives null, with `free_seats` saying how many there were.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from projections.analytics_queries import TENTHS

HORIZON_DAYS = 90
NTH = 3


def days_between(reference: datetime, then: datetime | None) -> Decimal | None:
    """Days from `reference` to `then`, to a tenth; null when there is no `then`."""
    if then is None:
        return None
    seconds = Decimal(str((then - reference).total_seconds()))
    return (seconds / Decimal(86400)).quantize(TENTHS)


class ThirdAvailable(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    appointment_type: str
    third_available_at: datetime | None
    days: Decimal | None
    free_seats: int


class AccessReport(msgspec.Struct, frozen=True, kw_only=True):
    reference: datetime
    horizon_days: int
    rows: list[ThirdAvailable]


class AccessPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One day of the series: measured at the start of `day` in the provider's zone."""

    day: date
    reference: datetime
    third_available_at: datetime | None
    days: Decimal | None
    free_seats: int


class AccessSeries(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    appointment_type: str
    time_zone: str
    horizon_days: int
    points: list[AccessPoint]
