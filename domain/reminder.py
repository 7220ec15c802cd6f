"""The reminder plan (issue 10): the reminders an appointment should have, from its current
state alone, so that a policy can diff them against what is stored and keep the due table
equal to them after every booking, reschedule, cancellation, no-show, hold expiry or block.

Each reminder is keyed by (appointment, kind, start, channel): a moved appointment gets new
keys, and its old reminders are no longer desired. One reminder already past when planned
(booked an hour before the start: no 24 h reminder) is not desired at all; one that quiet hours
leave no time for is desired as skipped, so the record says why it never left."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.notification import Channel, QuietHours, SkipReason, send_time

DEFAULT_OFFSETS = (timedelta(hours=24), timedelta(hours=2), timedelta(minutes=30))
PLANNED_STATUSES = frozenset({"booked", "confirmed"})


def reminder_kind(offset: timedelta) -> str:
    return f"reminder_{int(offset.total_seconds() // 60)}m"


@dataclass(frozen=True)
class ReminderSettings:
    """Reminder offsets before the start: the defaults, overridden per appointment type, and
    per (appointment type, channel); an empty tuple turns reminders off there."""

    offsets: tuple[timedelta, ...] = DEFAULT_OFFSETS
    by_type: Mapping[str, tuple[timedelta, ...]] = field(default_factory=dict)
    by_type_channel: Mapping[tuple[str, str], tuple[timedelta, ...]] = field(default_factory=dict)
    # "Check-in is open", when the check-in window opens (None: not sent).
    check_in_open: timedelta | None = timedelta(minutes=30)

    def offsets_for(self, appointment_type: str, channel: Channel) -> tuple[timedelta, ...]:
        found = self.by_type_channel.get((appointment_type, channel.value))
        if found is not None:
            return found
        return self.by_type.get(appointment_type, self.offsets)


@dataclass(frozen=True)
class AppointmentState:
    """What the plan reads of an appointment."""

    appointment_id: UUID
    patient_id: UUID
    appointment_type: str
    start: datetime
    status: str
    version: int


@dataclass(frozen=True)
class Audience:
    """Who receives reminders and how: the channels allowed for reminders, quiet hours and
    the patient's zone."""

    channels: tuple[Channel, ...]
    quiet: QuietHours | None
    zone: ZoneInfo


@dataclass(frozen=True)
class PlannedReminder:
    appointment_id: UUID
    kind: str
    channel: Channel
    start: datetime
    due_at: datetime
    skip: SkipReason | None = None
    category: str = "reminders"

    @property
    def key(self) -> str:
        return reminder_key(self.appointment_id, self.kind, self.start, self.channel)


def reminder_key(appointment_id: UUID, kind: str, start: datetime, channel: Channel) -> str:
    """One send per (appointment, kind, start, channel): no personal data."""
    return f"{appointment_id}:{kind}:{int(start.timestamp())}:{channel.value}"


def desired_reminders(
    appointment: AppointmentState,
    audience: Audience,
    now: datetime,
    settings: ReminderSettings,
) -> list[PlannedReminder]:
    """The reminders `appointment` should have when planned at `now`: none unless it is booked
    or confirmed; none already past; quiet hours applied (in-app is silent and ignores them)."""
    if appointment.status not in PLANNED_STATUSES or appointment.start <= now:
        return []
    planned: list[PlannedReminder] = []
    for channel in audience.channels:
        timed = [
            (reminder_kind(offset), offset, "reminders")
            for offset in settings.offsets_for(appointment.appointment_type, channel)
        ]
        if settings.check_in_open is not None:
            timed.append(("check_in_open", settings.check_in_open, "appointments"))
        for kind, offset, category in timed:
            due = appointment.start - offset
            if due < now:
                continue
            quiet = None if channel is Channel.IN_APP else audience.quiet
            at = send_time(due, now, quiet, audience.zone, deadline=appointment.start)
            skip = None if at is not None else SkipReason.QUIET_HOURS_EXHAUSTED
            planned.append(
                PlannedReminder(
                    appointment.appointment_id,
                    kind,
                    channel,
                    appointment.start,
                    due if at is None else at,
                    skip,
                    category,
                )
            )
    return planned
