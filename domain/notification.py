"""Notifications (issue 10): channels, categories, quiet hours and when a message may leave.

Quiet hours are local `HH:MM` start and end in the patient's IANA zone: a window inside one
day (`12:00-14:00`) or across midnight (`22:00-07:00`). A message due inside the window is
deferred to the window's end; when that would pass its deadline (an appointment's start), it is
moved to just before the window starts; when that too is impossible (already past), nothing is
left to send: the quiet hours are exhausted. Every comparison is made in UTC, since two aware
datetimes in one `ZoneInfo` compare by wall clock, which is wrong across a DST change."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.errors import ValidationError

MINUTE = timedelta(minutes=1)


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    PUSH = "push"
    IN_APP = "in_app"


class Category(StrEnum):
    APPOINTMENTS = "appointments"
    REMINDERS = "reminders"
    PAYMENTS = "payments"
    MARKETING = "marketing"


# Channels that leave the database, and so need consent (in-app never leaves).
OUTBOUND = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.PUSH)

DEFAULT_CHANNELS: dict[Category, tuple[Channel, ...]] = {
    Category.APPOINTMENTS: (Channel.SMS, Channel.EMAIL, Channel.IN_APP),
    Category.REMINDERS: (Channel.SMS, Channel.EMAIL, Channel.IN_APP),
    Category.PAYMENTS: (Channel.EMAIL, Channel.IN_APP),
    Category.MARKETING: (),
}


class SkipReason(StrEnum):
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    STALE = "stale"
    QUIET_HOURS_EXHAUSTED = "quiet_hours_exhausted"
    NO_ADDRESS = "no_address"
    TOO_LATE = "too_late"
    CHANNEL_OFF = "channel_off"
    CHANNEL_DISABLED = "channel_disabled"  # the clinic does not use the channel (settings)


def parse_hhmm(text: str, field: str) -> time:
    hours, sep, minutes = text.partition(":")
    if not (
        sep and len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()
    ):
        raise ValidationError(f"{field} must be HH:MM")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValidationError(f"{field} must be a time of day, 00:00 to 23:59")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class QuietHours:
    """A local window; `start == end` is refused (it would be all day or nothing)."""

    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        quiet = cls(parse_hhmm(start, "quiet_hours.start"), parse_hhmm(end, "quiet_hours.end"))
        if quiet.start == quiet.end:
            raise ValidationError("quiet_hours.start and quiet_hours.end must differ")
        return quiet

    @property
    def across_midnight(self) -> bool:
        return self.end < self.start

    def contains(self, local: time) -> bool:
        moment = local.replace(second=0, microsecond=0, tzinfo=None)
        if self.across_midnight:
            return moment >= self.start or moment < self.end
        return self.start <= moment < self.end

    def window(self, at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The quiet window (start, end, in UTC) that `at` falls in, or None."""
        local = at.astimezone(zone)
        if not self.contains(local.time()):
            return None
        day = local.date()
        if self.across_midnight and local.time().replace(tzinfo=None) < self.end:
            day -= timedelta(days=1)
        end_day = day + timedelta(days=1) if self.across_midnight else day
        return _instant(day, self.start, zone), _instant(end_day, self.end, zone)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time names on `day`; a time a spring-forward skips names the
    instant the clock jumps past it (zoneinfo reads it with the offset before the change)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def send_time(
    due: datetime,
    now: datetime,
    quiet: QuietHours | None,
    zone: ZoneInfo,
    deadline: datetime | None = None,
) -> datetime | None:
    """When a message due at `due` may leave, given quiet hours; None when no time is left
    (its deadline passed, or the window covers everything between now and the deadline)."""
    due = max(due, now).astimezone(UTC).replace(second=0, microsecond=0)
    if deadline is not None and due >= deadline:
        return None
    window = None if quiet is None else quiet.window(due, zone)
    if window is None:
        return due
    starts, ends = window
    if deadline is None or ends < deadline:
        return ends
    before = starts - MINUTE
    if before < now.astimezone(UTC).replace(second=0, microsecond=0):
        return None
    return before


def recipient_digest(key: bytes, address: str) -> str:
    """A keyed hash of an address (a phone number as E.164, without a `whatsapp:` prefix): an
    inbound message names its sender by it, and the record never holds the address itself."""
    plain = address.removeprefix("whatsapp:").strip()
    return hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()
