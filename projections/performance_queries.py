"""Provider performance (issue 14): time-weighted utilization and rates per provider, each beside
the median of the provider's specialty peers and the provider's own previous period.
Definitions (also in docs/analytics.md):

- open seat-minutes: over the slots overlapping the period, capacity x the minutes of the
  slot's span (clipped to the period) during which the slot was open, as its recorded history
  says (blocked and cancelled time excluded, at the moment it was so, not as it is now).
- booked seat-minutes: for every seat booked on those slots, the minutes of the slot's open
  span during which the seat was booked (from the booking or hold's conversion to its
  release, if any). Holds are not booked; overbooked seats count.
- utilization = booked / open seat-minutes (null when nothing was open).
- overbooking rate = overbooked bookings / booked; no-show rate = no_shows / due;
  late-cancellation rate = late_cancelled / cancelled; follow-up rate = completed visits whose
  clinician requested a follow-up / completed (appointment counts as in analytics_queries).
- peer median: the median of each rate over the providers of the same specialty (the provider
  included) whose rate is not null; null for providers without a specialty or when no peer
  has the rate.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from statistics import median
from uuid import UUID

import msgspec

from projections.analytics_queries import TENTHS, ratio

RATES = (
    "utilization",
    "overbooking_rate",
    "no_show_rate",
    "late_cancellation_rate",
    "follow_up_rate",
)


class PerformanceCounts(msgspec.Struct, frozen=True, kw_only=True):
    open_seat_minutes: Decimal = Decimal(0)
    booked_seat_minutes: Decimal = Decimal(0)
    booked: int = 0
    overbooked: int = 0
    due: int = 0
    no_shows: int = 0
    cancelled: int = 0
    late_cancelled: int = 0
    completed: int = 0
    follow_ups: int = 0


class PerformanceFigures(msgspec.Struct, frozen=True, kw_only=True):
    open_seat_minutes: Decimal
    booked_seat_minutes: Decimal
    utilization: Decimal | None
    booked: int
    overbooked: int
    overbooking_rate: Decimal | None
    due: int
    no_shows: int
    no_show_rate: Decimal | None
    cancelled: int
    late_cancelled: int
    late_cancellation_rate: Decimal | None
    completed: int
    follow_ups: int
    follow_up_rate: Decimal | None

    @classmethod
    def of(cls, c: PerformanceCounts) -> PerformanceFigures:
        return cls(
            open_seat_minutes=Decimal(c.open_seat_minutes).quantize(TENTHS),
            booked_seat_minutes=Decimal(c.booked_seat_minutes).quantize(TENTHS),
            utilization=ratio(Decimal(c.booked_seat_minutes), Decimal(c.open_seat_minutes)),
            booked=c.booked,
            overbooked=c.overbooked,
            overbooking_rate=ratio(c.overbooked, c.booked),
            due=c.due,
            no_shows=c.no_shows,
            no_show_rate=ratio(c.no_shows, c.due),
            cancelled=c.cancelled,
            late_cancelled=c.late_cancelled,
            late_cancellation_rate=ratio(c.late_cancelled, c.cancelled),
            completed=c.completed,
            follow_ups=c.follow_ups,
            follow_up_rate=ratio(c.follow_ups, c.completed),
        )


class PeerMedians(msgspec.Struct, frozen=True, kw_only=True):
    """Medians over the specialty's providers; `peers` counts the providers of the specialty."""

    peers: int
    utilization: Decimal | None
    overbooking_rate: Decimal | None
    no_show_rate: Decimal | None
    late_cancellation_rate: Decimal | None
    follow_up_rate: Decimal | None


class ProviderPerformance(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    provider_name: str | None
    specialty: str | None
    current: PerformanceFigures
    previous: PerformanceFigures
    peer_median: PeerMedians | None


class PerformanceReport(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    previous_from: datetime
    providers: list[ProviderPerformance]


def peer_medians(figures: list[PerformanceFigures]) -> PeerMedians:
    """The median of each rate over the figures where it is not null (four places)."""
    values: dict[str, Decimal | None] = {}
    for rate in RATES:
        present = [v for f in figures if (v := getattr(f, rate)) is not None]
        values[rate] = Decimal(median(present)).quantize(Decimal("0.0001")) if present else None
    return PeerMedians(peers=len(figures), **values)


def assemble(
    providers: list[tuple[UUID, str | None, str | None]],
    current: dict[UUID, PerformanceCounts],
    previous: dict[UUID, PerformanceCounts],
) -> list[ProviderPerformance]:
    """Each provider's figures beside their specialty's medians and their previous period."""
    now = {p: PerformanceFigures.of(current.get(p, PerformanceCounts())) for p, _, _ in providers}
    by_specialty: dict[str, list[PerformanceFigures]] = {}
    for provider_id, _, specialty in providers:
        if specialty is not None:
            by_specialty.setdefault(specialty, []).append(now[provider_id])
    medians = {s: peer_medians(f) for s, f in by_specialty.items()}
    return [
        ProviderPerformance(
            provider_id=provider_id,
            provider_name=name,
            specialty=specialty,
            current=now[provider_id],
            previous=PerformanceFigures.of(previous.get(provider_id, PerformanceCounts())),
            peer_median=medians.get(specialty) if specialty is not None else None,
        )
        for provider_id, name, specialty in providers
    ]
