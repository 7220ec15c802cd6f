"""Recurrence rules of a series: a strict subset of RFC 5545 RRULE, expanded in the provider's
zone with `dateutil.rrule` on a zoneinfo-aware start, so 09:00 stays 09:00 across DST.

The subset: FREQ (DAILY, WEEKLY, MONTHLY), INTERVAL, COUNT or UNTIL (a UTC date-time, e.g.
20270101T000000Z; never both), BYDAY (MO..SU; with MONTHLY also an ordinal, 1MO or -1FR) and
BYMONTHDAY (1..31 or -31..-1, not with WEEKLY). EXDATE is given beside the rule as instants.

Wall times follow slot generation's rules (`domain.schedule.wall_to_utc`): an occurrence whose
wall time does not exist that day (a spring-forward gap) is ignored and not counted, as RFC 5545
§3.3.10 requires; an ambiguous one (fall back) is its first occurrence. COUNT counts the rule's
occurrences before EXDATE removes any (RFC 5545 §3.8.5.1). A series has at most
`MAX_OCCURRENCES` occurrences, all before its horizon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from dateutil import rrule

from domain.errors import ValidationError
from domain.schedule import wall_to_utc
from domain.zone import zone_info

MAX_OCCURRENCES = 52
MAX_RULE_LENGTH = 200
MAX_EXDATES = MAX_OCCURRENCES
MAX_INTERVAL = 52
FREQUENCIES: dict[str, Literal[1, 2, 3]] = {
    "DAILY": rrule.DAILY,
    "WEEKLY": rrule.WEEKLY,
    "MONTHLY": rrule.MONTHLY,
}
WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}
PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY")
_UNTIL = re.compile(r"^(\d{8})T(\d{6})Z$")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?([A-Z]{2})$")
# Scanning stops after this many candidate dates: enough for 52 occurrences of any rule in
# the subset whose gaps (skipped wall times, BYMONTHDAY=31) are rare.
_SCAN_LIMIT = 2_000


class RecurrenceError(ValidationError):
    """A recurrence rule (or its EXDATE) is not valid; `part` names the offending part."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"rrule {part}: {message}")
        self.part = part


@dataclass(frozen=True)
class Recurrence:
    """A parsed rule. `text` is its canonical form (parts in a fixed order)."""

    freq: str
    interval: int = 1
    count: int | None = None
    until: datetime | None = None
    byday: tuple[str, ...] = ()
    bymonthday: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until.strftime('%Y%m%dT%H%M%SZ')}")
        if self.byday:
            parts.append(f"BYDAY={','.join(self.byday)}")
        if self.bymonthday:
            parts.append(f"BYMONTHDAY={','.join(str(d) for d in self.bymonthday)}")
        return ";".join(parts)


def parse_rule(text: object) -> Recurrence:
    """The rule `text` (optionally prefixed `RRULE:`), or a RecurrenceError naming the part."""
    if not isinstance(text, str) or not text.strip():
        raise RecurrenceError("RRULE", "the rule is empty")
    if len(text) > MAX_RULE_LENGTH:
        raise RecurrenceError("RRULE", f"the rule is longer than {MAX_RULE_LENGTH} characters")
    body = text.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise RecurrenceError(name or "RRULE", f"{item!r} is not NAME=VALUE")
        if name not in PARTS:
            raise RecurrenceError(name, f"not supported (supported: {', '.join(PARTS)})")
        if name in parts:
            raise RecurrenceError(name, "given more than once")
        parts[name] = value.strip().upper()
    if "FREQ" not in parts:
        raise RecurrenceError("FREQ", "missing; one of DAILY, WEEKLY, MONTHLY is required")
    freq = parts["FREQ"]
    if freq not in FREQUENCIES:
        raise RecurrenceError("FREQ", f"{freq!r} is not one of DAILY, WEEKLY, MONTHLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("COUNT", "COUNT and UNTIL must not both be given")
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise RecurrenceError("COUNT", "a series needs COUNT or UNTIL")
    return Recurrence(
        freq=freq,
        interval=_number(parts, "INTERVAL", 1, MAX_INTERVAL) or 1,
        count=_number(parts, "COUNT", 1, MAX_OCCURRENCES),
        until=_until(parts.get("UNTIL")),
        byday=_byday(parts.get("BYDAY"), freq),
        bymonthday=_bymonthday(parts.get("BYMONTHDAY"), freq),
    )


def _number(parts: dict[str, str], name: str, low: int, high: int) -> int | None:
    value = parts.get(name)
    if value is None:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise RecurrenceError(name, f"{value!r} is not a whole number from {low} to {high}")
    return int(value)


def _until(value: str | None) -> datetime | None:
    if value is None:
        return None
    match = _UNTIL.match(value)
    if match is None:
        raise RecurrenceError("UNTIL", f"{value!r} is not a UTC date-time like 20270101T000000Z")
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise RecurrenceError("UNTIL", f"{value!r} is not a real date-time") from None


def _byday(value: str | None, freq: str) -> tuple[str, ...]:
    if value is None:
        return ()
    days: list[str] = []
    for entry in value.split(","):
        match = _BYDAY.match(entry.strip())
        if match is None or match.group(2) not in WEEKDAYS:
            raise RecurrenceError("BYDAY", f"{entry!r} is not a weekday (MO, TU, ... SU)")
        ordinal = match.group(1)
        if ordinal is not None:
            if freq != "MONTHLY":
                raise RecurrenceError("BYDAY", f"{entry!r}: an ordinal weekday needs FREQ=MONTHLY")
            if int(ordinal) == 0 or abs(int(ordinal)) > 5:
                raise RecurrenceError("BYDAY", f"{entry!r}: the ordinal must be 1..5 or -5..-1")
        days.append(entry.strip())
    if len(set(days)) != len(days):
        raise RecurrenceError("BYDAY", "a weekday is listed twice")
    return tuple(days)


def _bymonthday(value: str | None, freq: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if freq == "WEEKLY":
        raise RecurrenceError("BYMONTHDAY", "not allowed with FREQ=WEEKLY (RFC 5545)")
    days: list[int] = []
    for entry in value.split(","):
        text = entry.strip()
        digits = text.removeprefix("-").removeprefix("+")
        if not digits.isdigit() or not 1 <= int(digits) <= 31:
            raise RecurrenceError("BYMONTHDAY", f"{text!r} is not a day 1..31 or -31..-1")
        days.append(int(text))
    if len(set(days)) != len(days):
        raise RecurrenceError("BYMONTHDAY", "a day is listed twice")
    return tuple(days)


def _weekday(entry: str) -> Any:
    match = _BYDAY.match(entry)
    assert match is not None  # noqa: S101 - checked when parsed
    day = WEEKDAYS[match.group(2)]
    return day(int(match.group(1))) if match.group(1) else day


def expand(
    rule: Recurrence,
    first_start: datetime,
    zone: str,
    *,
    horizon: datetime,
    exdates: tuple[datetime, ...] = (),
) -> list[datetime]:
    """The UTC starts of the series' occurrences (its recurrence ids), sorted.

    `first_start` (aware) is the first occurrence; its wall time in `zone` is the anchor. Every
    occurrence must start before `horizon`; each EXDATE must be one of the rule's occurrences.
    """
    if first_start.tzinfo is None:
        raise RecurrenceError("DTSTART", "the start must carry a UTC offset")
    if len(exdates) > MAX_EXDATES:
        raise RecurrenceError("EXDATE", f"at most {MAX_EXDATES} dates may be excluded")
    tz = zone_info(zone, "zone")
    anchor = first_start.astimezone(tz)
    if rule.until is not None and rule.until < first_start:
        raise RecurrenceError("UNTIL", "ends before the first occurrence")
    if rule.until is not None and rule.until >= horizon:
        raise RecurrenceError("UNTIL", f"runs past the horizon {horizon.isoformat()}")
    recurrence = rrule.rrule(
        FREQUENCIES[rule.freq],
        dtstart=anchor,
        interval=rule.interval,
        until=rule.until,
        byweekday=[_weekday(d) for d in rule.byday] or None,
        bymonthday=list(rule.bymonthday) or None,
        cache=False,
    )
    occurrences: list[datetime] = []
    for scanned, candidate in enumerate(recurrence):
        if scanned >= _SCAN_LIMIT or (rule.count is not None and len(occurrences) == rule.count):
            break
        instant = wall_to_utc(candidate.replace(tzinfo=None), tz)
        if instant is None:
            continue  # a wall time in the gap: ignored and not counted (RFC 5545 §3.3.10)
        if instant >= horizon:
            part = "COUNT" if rule.count is not None else "UNTIL"
            raise RecurrenceError(part, f"occurrences run past the horizon {horizon.isoformat()}")
        occurrences.append(instant)
        if len(occurrences) > MAX_OCCURRENCES:
            raise RecurrenceError("UNTIL", f"the rule yields more than {MAX_OCCURRENCES}")
    excluded = {e.astimezone(UTC) for e in exdates}
    strays = excluded - set(occurrences)
    if strays:
        first = min(strays).isoformat()
        raise RecurrenceError("EXDATE", f"{first} is not an occurrence of the rule")
    kept = [o for o in occurrences if o not in excluded]
    if not kept:
        raise RecurrenceError("RRULE", "the rule yields no occurrence")
    return kept


def occurrence_shift(old: datetime, new: datetime, zone: str) -> timedelta:
    """How far `new` moves `old` in wall-clock time of `zone` (a reschedule of "this and
    following" shifts every later occurrence by the same wall-clock amount)."""
    tz = zone_info(zone, "zone")
    return new.astimezone(tz).replace(tzinfo=None) - old.astimezone(tz).replace(tzinfo=None)


def shifted(start: datetime, shift: timedelta, zone: str) -> datetime | None:
    """`start` moved by the wall-clock `shift` in `zone`, under the gap/fold rules; None if the
    moved wall time does not exist."""
    tz = zone_info(zone, "zone")
    return wall_to_utc(start.astimezone(tz).replace(tzinfo=None) + shift, tz)
