"""Size limits for free-form values, and the supported range of instants and days, checked where
the values enter the domain (commands) or the API (query parameters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.errors import ValidationError

MAX_TEXT = 20_000
MAX_SHORT_TEXT = 500
MAX_LIST = 50
LONG_TEXT_FIELDS = frozenset({"bio", "education"})

# Time: every instant and day a command names lies in [EARLIEST, LATEST), far enough from
# Python's and PostgreSQL's ends that arithmetic on them (slot ends, zone offsets, day buckets,
# holds) can never overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

_WALL_MARGIN = timedelta(days=1)  # more than any UTC offset


def check_instant(field: str, value: datetime) -> datetime:
    """`value` in UTC, refusing naive datetimes and instants outside [EARLIEST, LATEST)."""
    if value.tzinfo is None:
        raise ValidationError(f"{field} must carry a time zone offset")
    # Bound the wall time before converting it: converting year 9999 with an offset overflows.
    wall = value.replace(tzinfo=None)
    earliest, latest = EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None)
    if not earliest - _WALL_MARGIN <= wall <= latest + _WALL_MARGIN:
        raise ValidationError(_out_of_range(field))
    if value.utcoffset() is None:
        raise ValidationError(f"{field} must carry a time zone offset")
    utc = value.astimezone(UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValidationError(_out_of_range(field))
    return utc


def check_day(field: str, value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValidationError(_out_of_range(field))
    return value


def _out_of_range(field: str) -> str:
    return (
        f"{field} must lie between {EARLIEST.date().isoformat()} and "
        f"{LATEST.date().isoformat()} (UTC)"
    )


def check_sizes(values: dict[str, Any]) -> None:
    """Refuse over-long strings and lists, naming the field."""
    for name, value in values.items():
        if isinstance(value, str):
            limit = MAX_TEXT if name in LONG_TEXT_FIELDS else MAX_SHORT_TEXT
            if len(value) > limit:
                raise ValidationError(f"{name} is longer than {limit} characters")
        elif isinstance(value, list):
            if len(value) > MAX_LIST:
                raise ValidationError(f"{name} has more than {MAX_LIST} entries")
            if any(not isinstance(v, str) or len(v) > MAX_SHORT_TEXT for v in value):
                raise ValidationError(f"every entry of {name} must be text of at most 500 chars")


def json_native(values: dict[str, Any]) -> dict[str, Any]:
    """Free-form values as they are stored in events: money and dates as strings, so an event
    reads the same from the event store and from its published JSON form."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Decimal):
            out[name] = str(value)
        elif isinstance(value, date):
            out[name] = value.isoformat()
        else:
            out[name] = value
    return out
