"""The waitlist's pure rules (issue 11): which seat suits which entry (`unsuitable`), the order
entries are offered a seat in (`rank_key`), and how long an offer stays open (`offer_expiry`).

No I/O: the offer policy nominates candidates from a read model, and the `WaitlistEntry`
aggregate applies these rules again inside the write that records the offer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import ValidationError
from domain.notification import QuietHours

# Tier 0 is reserved for patients the clinic displaced (a blocked window, a cancellation by the
# provider); staff may set 0-5 (clinical urgency); a patient joining gets DEFAULT_TIER.
TOP_TIER = 0
LOWEST_TIER = 5
DEFAULT_TIER = 3
MAX_WINDOWS = 14
MAX_RADIUS_KM = 500.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Window:
    """A preferred local-time range on some ISO weekdays (1 = Monday), in the entry's zone."""

    start: time
    end: time
    days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationError("a preferred window must end after it starts")
        if not self.days or any(d not in range(1, 8) for d in self.days):
            raise ValidationError("a preferred window's days are ISO weekdays 1-7")

    def holds(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        if local_start.isoweekday() not in self.days or local_end.date() != local_start.date():
            return False
        return self.start <= local_start.time() and local_end.time() <= self.end

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat("minutes"),
            "end": self.end.isoformat("minutes"),
            "days": list(self.days),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Window:
        days = data.get("days", [1, 2, 3, 4, 5, 6, 7])
        if not isinstance(days, list) or not all(isinstance(d, int) for d in days):
            raise ValidationError("a preferred window's days are a list of ISO weekdays")
        return cls(
            time.fromisoformat(str(data["start"])),
            time.fromisoformat(str(data["end"])),
            tuple(sorted(set(days))),
        )


@dataclass(frozen=True)
class Area:
    """Where the patient wants to be seen: within `radius_km` of a point."""

    latitude: float
    longitude: float
    radius_km: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValidationError("latitude/longitude out of range")
        if not 0 < self.radius_km <= MAX_RADIUS_KM:
            raise ValidationError(f"radius_km must be in (0, {MAX_RADIUS_KM:g}]")

    def contains(self, latitude: float, longitude: float) -> bool:
        return distance_km(self.latitude, self.longitude, latitude, longitude) <= self.radius_km


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Seat:
    """A free seat as the rules see it: its slot and that slot's provider."""

    slot_id: UUID
    provider_id: UUID
    specializations: tuple[str, ...]
    start: datetime
    end: datetime
    appointment_types: tuple[str, ...]
    provider_latitude: float | None = None
    provider_longitude: float | None = None


@dataclass(frozen=True)
class Want:
    """What an entry asks for."""

    provider_id: UUID | None
    specialty: str | None
    appointment_type: str
    time_zone: str
    earliest: date
    deadline: date | None
    windows: tuple[Window, ...] = ()
    area: Area | None = None
    # "Move me earlier": only seats starting before this (the appointment to move) suit.
    before: datetime | None = None

    def __post_init__(self) -> None:
        if (self.provider_id is None) == (self.specialty is None):
            raise ValidationError("name either a provider_id or a specialty")
        if self.deadline is not None and self.deadline < self.earliest:
            raise ValidationError("deadline must not be before earliest")
        if len(self.windows) > MAX_WINDOWS:
            raise ValidationError(f"at most {MAX_WINDOWS} preferred windows")


def unsuitable(want: Want, seat: Seat, now: datetime, min_lead: timedelta) -> str | None:
    """Why `seat` does not suit `want` at `now`, or None when it does."""
    zone = ZoneInfo(want.time_zone)
    if want.provider_id is not None and seat.provider_id != want.provider_id:
        return "provider"
    if want.specialty is not None and want.specialty not in seat.specializations:
        return "specialty"
    if want.appointment_type not in seat.appointment_types:
        return "appointment_type"
    if seat.start - now < min_lead:
        return "too_soon"
    day = seat.start.astimezone(zone).date()
    if day < want.earliest:
        return "before_earliest"
    if want.deadline is not None and day > want.deadline:
        return "after_deadline"
    if want.before is not None and seat.start >= want.before:
        return "not_earlier"
    if want.windows and not any(w.holds(seat.start, seat.end, zone) for w in want.windows):
        return "outside_windows"
    if want.area is not None:
        lat, lon = seat.provider_latitude, seat.provider_longitude
        if lat is None or lon is None or not want.area.contains(lat, lon):
            return "outside_area"
    return None


def rank_key(tier: int, joined_at: datetime, entry_id: UUID) -> tuple[int, datetime, str]:
    """Deterministic order: the most urgent tier first, then who joined first, then the id."""
    return (tier, joined_at, str(entry_id))


# How long the patient has to answer an offer: the first tier whose lead the slot is at least
# that far away takes it. Configurable (`SLOTWISE_WAITLIST_OFFER_TIERS`).
DEFAULT_TIERS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(days=2), timedelta(hours=2)),
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(hours=6), timedelta(minutes=30)),
    (timedelta(0), timedelta(minutes=15)),
)

# The quiet-hours hook: given the patient and an instant, their quiet window (start, end) that
# holds the instant or, if none does, the next one after it; None when they keep no quiet
# hours. The offer command builds it from the patient's contact preferences (`quiet_hook`).
QuietHook = Callable[[UUID, datetime], tuple[datetime, datetime] | None]


def quiet_hook(quiet: QuietHours | None, zone: ZoneInfo) -> QuietHook | None:
    """The hook for quiet hours kept as local times in `zone` (DST and midnight as the
    notifications' `QuietHours.window` reads them)."""
    if quiet is None:
        return None

    def window(_: UUID, at: datetime) -> tuple[datetime, datetime] | None:
        current = quiet.window(at, zone)
        if current is not None:
            return current
        local = at.astimezone(zone)
        for days in (0, 1, 2):
            day = local.date() + timedelta(days=days)
            starts = datetime.combine(day, quiet.start, tzinfo=zone).astimezone(UTC)
            found = quiet.window(starts, zone) if starts > at else None
            if found is not None:
                return found
        return None

    return window


@dataclass(frozen=True)
class OfferTiming:
    tiers: tuple[tuple[timedelta, timedelta], ...] = DEFAULT_TIERS
    min_lead: timedelta = timedelta(minutes=30)  # no offer for a seat starting sooner
    cooldown: timedelta = timedelta(hours=24)  # after a decline, before the next offer
    # An offer always closes this long before the slot starts.
    close_before_start: timedelta = timedelta(minutes=10)
    quiet_hours: QuietHook | None = field(default=None, compare=False)


def answer_time(lead: timedelta, tiers: tuple[tuple[timedelta, timedelta], ...]) -> timedelta:
    for at_least, answer in tiers:
        if lead >= at_least:
            return answer
    return tiers[-1][1]


def offer_expiry(
    patient_id: UUID, slot_start: datetime, now: datetime, timing: OfferTiming
) -> datetime:
    """When an offer made `now` for a slot at `slot_start` lapses: the tier's answer time,
    counted only while the patient is awake. Made inside their quiet hours, it starts when they
    end; a quiet window the answer time would run into pauses it (what was left runs on once
    the window ends). Never later than `close_before_start` before the slot, never before
    `now`."""
    # In UTC: arithmetic and comparisons on two datetimes sharing a zone are wall-clock ones.
    now, slot_start = now.astimezone(UTC), slot_start.astimezone(UTC)
    answer = answer_time(slot_start - now, timing.tiers)
    latest = slot_start - timing.close_before_start
    expires = now + answer
    hook = timing.quiet_hours
    if hook is not None:
        expires = _awake(patient_id, now, answer, latest, hook)
    return max(min(expires, latest), now)


def _awake(
    patient_id: UUID, now: datetime, answer: timedelta, latest: datetime, hook: QuietHook
) -> datetime:
    at, left = now, answer
    for _ in range(8):  # a few nights at most before `latest` cuts it short
        window = hook(patient_id, at)
        if window is None or at >= latest:
            break
        starts, ends = window
        if starts > at:
            if at + left <= starts:
                break
            left -= starts - at
        at = ends
    return at + left
