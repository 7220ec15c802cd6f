"""A series as an iCalendar (RFC 5545) document for the patient's calendar, with `icalendar`.

One master VEVENT per series, anchored in the provider's zone (with its VTIMEZONE): while the
series is as its rule made it, the rule itself (RRULE) with EXDATE for the occurrences it does
not hold (excluded, refused, cancelled); once split, its occurrences as RDATE. An occurrence
moved to another time is an override VEVENT naming its RECURRENCE-ID. No personal data: the
summary is generic, and the UID is the series id.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from domain.appointment import Appointment, Status
from domain.series import Series

PRODUCT = "-//Slotwise//Recurring series//EN"
SUMMARY = "Appointment"
GONE = (Status.CANCELLED,)


def _uid(series: Series) -> str:
    return f"{series.id}@slotwise"


def _event(series: Series, start: datetime, end: datetime, tz: ZoneInfo, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", _uid(series))
    event.add("dtstamp", stamp)
    event.add("summary", SUMMARY)
    event.add("dtstart", start.astimezone(tz))
    event.add("dtend", end.astimezone(tz))
    event.add("status", "CONFIRMED")
    return event


def series_event(series: Series, appointments: list[Appointment], stamp: datetime) -> list[Event]:
    """The master VEVENT of `series` and an override per moved occurrence."""
    tz = ZoneInfo(series.zone)
    by_recurrence = {a.recurrence_id: a for a in appointments if a.recurrence_id is not None}
    any_one = next(iter(by_recurrence.values()))
    length = any_one.end - any_one.start
    # The rule's own anchor while it stands (an occurrence a partial booking refused is
    # excluded below); the first occurrence it still holds once split.
    first = series.first_start if series.intact else min(series.occurrences)
    master = _event(series, first, first + length, tz, stamp)
    held = set(series.occurrences)
    missing = [r for r, a in by_recurrence.items() if a.status in GONE]
    if series.intact:
        master.add("rrule", vRecur.from_ical(series.rule))
        refused = [datetime.fromisoformat(r["recurrence_id"]) for r in series.refused]
        missing += [*series.exdates, *refused]
    else:
        rest = sorted(held - {first})
        if rest:
            master.add("rdate", [r.astimezone(tz) for r in rest])
    if missing:
        master.add("exdate", [r.astimezone(tz) for r in sorted(missing)])
    events = [master]
    for recurrence, appointment in sorted(by_recurrence.items()):
        if appointment.status in GONE or appointment.start == recurrence:
            continue
        override = _event(series, appointment.start, appointment.end, tz, stamp)
        override.add("recurrence-id", recurrence.astimezone(tz))
        events.append(override)
    return events


def calendar(series: list[tuple[Series, list[Appointment]]], stamp: datetime) -> bytes:
    """One iCalendar document holding every series given."""
    document = Calendar()
    document.add("prodid", PRODUCT)
    document.add("version", "2.0")
    for one, appointments in series:
        for event in series_event(one, appointments, stamp):
            document.add_component(event)
    document.add_missing_timezones()
    return bytes(document.to_ical())
