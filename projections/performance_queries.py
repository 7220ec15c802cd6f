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
- waitlist fill rate = freed seats filled from the waitlist / freed seats, and the median
  seconds from release to the first accepted offer: the waitlist read model's own definitions
  (docs/waitlist.md, FILLS in infra/postgres/read_models/waitlist.py), freed in the period.
- reminder delivery rate = reminders delivered / reminders attempted (sent, delivered,
  undelivered or failed; planned, queued, sending and skipped ones are not attempts), over
  the reminders of appointments starting in the period.
- no-show rate with / without a delivered reminder: no_shows / due over the due appointments
  that had at least one reminder delivered, and over those that had none.
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
    "waitlist_fill_rate",
    "reminder_delivery_rate",
    "no_show_rate_with_reminder",
    "no_show_rate_without_reminder",
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
    freed_seats: int = 0
    filled_from_waitlist: int = 0
    median_seconds_to_fill: float | None = None
    reminders_attempted: int = 0
    reminders_delivered: int = 0
    due_with_reminder: int = 0
    no_shows_with_reminder: int = 0


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
    freed_seats: int
    filled_from_waitlist: int
    waitlist_fill_rate: Decimal | None
    median_seconds_to_fill: Decimal | None
    reminders_attempted: int
    reminders_delivered: int
    reminder_delivery_rate: Decimal | None
    due_with_reminder: int
    no_shows_with_reminder: int
    no_show_rate_with_reminder: Decimal | None
    due_without_reminder: int
    no_shows_without_reminder: int
    no_show_rate_without_reminder: Decimal | None

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
            freed_seats=c.freed_seats,
            filled_from_waitlist=c.filled_from_waitlist,
            waitlist_fill_rate=ratio(c.filled_from_waitlist, c.freed_seats),
            median_seconds_to_fill=(
                None
                if c.median_seconds_to_fill is None
                else Decimal(c.median_seconds_to_fill).quantize(TENTHS)
            ),
            reminders_attempted=c.reminders_attempted,
            reminders_delivered=c.reminders_delivered,
            reminder_delivery_rate=ratio(c.reminders_delivered, c.reminders_attempted),
            due_with_reminder=c.due_with_reminder,
            no_shows_with_reminder=c.no_shows_with_reminder,
            no_show_rate_with_reminder=ratio(c.no_shows_with_reminder, c.due_with_reminder),
            due_without_reminder=c.due - c.due_with_reminder,
            no_shows_without_reminder=c.no_shows - c.no_shows_with_reminder,
            no_show_rate_without_reminder=ratio(
                c.no_shows - c.no_shows_with_reminder, c.due - c.due_with_reminder
            ),
        )


class PeerMedians(msgspec.Struct, frozen=True, kw_only=True):
    """Medians over the specialty's providers; `peers` counts the providers of the specialty."""

    peers: int
    utilization: Decimal | None
    overbooking_rate: Decimal | None
    no_show_rate: Decimal | None
    late_cancellation_rate: Decimal | None
    follow_up_rate: Decimal | None
    waitlist_fill_rate: Decimal | None
    reminder_delivery_rate: Decimal | None
    no_show_rate_with_reminder: Decimal | None
    no_show_rate_without_reminder: Decimal | None


class ProviderPerformance(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: UUID
    provider_name: str | None
    specialty: str | None
    rating: Decimal | None  # the average of all patients' ratings so far, null before the first
    rating_count: int
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


class ProviderRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str | None
    specialty: str | None
    rating: Decimal | None
    rating_count: int


def assemble(
    providers: list[ProviderRow],
    current: dict[UUID, PerformanceCounts],
    previous: dict[UUID, PerformanceCounts],
) -> list[ProviderPerformance]:
    """Each provider's figures beside their specialty's medians and their previous period."""
    now = {p.id: PerformanceFigures.of(current.get(p.id, PerformanceCounts())) for p in providers}
    by_specialty: dict[str, list[PerformanceFigures]] = {}
    for p in providers:
        if p.specialty is not None:
            by_specialty.setdefault(p.specialty, []).append(now[p.id])
    medians = {s: peer_medians(f) for s, f in by_specialty.items()}
    return [
        ProviderPerformance(
            provider_id=p.id,
            provider_name=p.name,
            specialty=p.specialty,
            rating=p.rating,
            rating_count=p.rating_count,
            current=now[p.id],
            previous=PerformanceFigures.of(previous.get(p.id, PerformanceCounts())),
            peer_median=medians.get(p.specialty) if p.specialty is not None else None,
        )
        for p in providers
    ]
