"""Every limit on what one command may carry or cause, in one place (docs/limits.md lists them),
and the one pass that checks values where they enter the domain: types, sizes, the text rule
of domain/text.py, finite numbers and supported dates.

The limits keep each command's work and event count bounded, and keep every value inside what
the read models can store: whatever the write side accepts, every projection can project."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from math import isfinite
from typing import Any

from domain.errors import ValidationError
from domain.text import Lines, check_text

# Text. Prose fields are long and may hold line breaks; reasons and addresses are short but
# may hold line breaks too; every other text (names, codes, list entries, keys) is one line.
MAX_TEXT = 20_000
MAX_SHORT_TEXT = 500
MAX_LIST = 50
LONG_TEXT_FIELDS = frozenset({"bio", "education", "notes", "private_notes"})
MULTILINE_FIELDS = LONG_TEXT_FIELDS | {"address", "reason"}

# Free-form objects (vitals): nesting depth, entries (keys plus list items) and characters
# (keys plus text values) over the whole object, and integers a JSON reader keeps exactly.
MAX_DEPTH = 8
MAX_FREE_FORM_ENTRIES = 500
MAX_FREE_FORM_CHARS = 20_000
MAX_SAFE_INTEGER = 2**53 - 1

# Money: what the read models' numeric columns hold exactly.
MAX_AMOUNT = Decimal("99999999.99")
MONEY_PLACES = 2

# Time: every instant and day a command names lies in [EARLIEST, LATEST), far enough from
# Python's and PostgreSQL's ends that arithmetic on them (slot ends, zone offsets, day buckets,
# holds) can never overflow. IANA zone names are short relative paths.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_ZONE_NAME = 64

# Fan-out: how many events and aggregates one command may write or load.
MAX_SLOT_LENGTH = timedelta(hours=24)  # so a slot or appointment touches at most 2 day buckets
MAX_CAPACITY = 500
MAX_OVERBOOK_ALLOWANCE = 50
MAX_GENERATION_DAYS = 366
MAX_GENERATED_SLOTS = 5_000
MAX_WINDOW = timedelta(days=92)  # block/unblock: every slot overlapping 92 days
# Day-bucketed aggregates (provider calendars, patient agendas) one time range may touch.
MAX_DAY_BUCKETS = MAX_WINDOW.days + 1

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


FieldTypes = Mapping[str, type | tuple[type, ...]]


def check_fields(values: Mapping[str, Any], types: FieldTypes, what: str) -> None:
    """Refuse unknown fields and values of the wrong type, then check every value."""
    unknown = set(values) - set(types)
    if unknown:
        raise ValidationError(f"unknown {what} fields: {sorted(unknown)}")
    for name, value in values.items():
        expected = types[name]
        allowed = expected if isinstance(expected, tuple) else (expected,)
        # bool is an int to Python, never a number or a text to a client.
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValidationError(f"{name} has the wrong type")
    check_values(values)


def check_values(values: Mapping[str, Any]) -> None:
    """Refuse, naming the field: over-long or unacceptable text, over-long lists or lists of
    anything but one-line texts, free-form objects beyond their bounds, non-finite or unsafe
    numbers, and days or instants outside the supported range."""
    for name, value in values.items():
        if isinstance(value, str):
            limit = MAX_TEXT if name in LONG_TEXT_FIELDS else MAX_SHORT_TEXT
            if len(value) > limit:
                raise ValidationError(f"{name} is longer than {limit} characters")
            lines = Lines.MULTILINE if name in MULTILINE_FIELDS else Lines.SINGLE
            check_text(name, value, lines)
        elif isinstance(value, list):
            _check_list(name, value)
        elif isinstance(value, dict):
            FreeForm(name).check(value)
        else:
            _check_scalar(name, value)


def _check_list(name: str, value: list[Any]) -> None:
    if len(value) > MAX_LIST:
        raise ValidationError(f"{name} has more than {MAX_LIST} entries")
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or len(entry) > MAX_SHORT_TEXT:
            msg = f"every entry of {name} must be text of at most {MAX_SHORT_TEXT} characters"
            raise ValidationError(msg)
        check_text(f"{name}[{index}]", entry)


def _check_scalar(name: str, value: object) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValidationError(f"{name} must be at most {MAX_SAFE_INTEGER} in magnitude")
    elif isinstance(value, float):
        if not isfinite(value):
            raise ValidationError(f"{name} must be a finite number")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"{name} must be a finite number")
    elif isinstance(value, datetime):
        check_instant(name, value)
    elif isinstance(value, date):
        check_day(name, value)
    else:
        raise ValidationError(f"{name} has an unsupported type")


class FreeForm:
    """Checks a free-form JSON object (such as vitals) against the bounds above, walking it at
    most MAX_DEPTH levels deep; text values and keys are one line each."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.entries = 0
        self.chars = 0

    def check(self, value: dict[Any, Any]) -> None:
        self._object(self.field, value, 1)

    def _object(self, path: str, value: dict[Any, Any], depth: int) -> None:
        self._enter(depth)
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"every key of {path} must be text")
            self._count(len(key))
            check_text(f"a key of {path}", key)
            self._value(f"{path}.{key}" if key.isidentifier() else f"{path}[...]", item, depth)

    def _list(self, path: str, value: list[Any], depth: int) -> None:
        self._enter(depth)
        for index, item in enumerate(value):
            self._count(0)
            self._value(f"{path}[{index}]", item, depth)

    def _value(self, path: str, value: object, depth: int) -> None:
        if isinstance(value, dict):
            self._object(path, value, depth + 1)
        elif isinstance(value, list):
            self._list(path, value, depth + 1)
        elif isinstance(value, str):
            self._count(len(value))
            check_text(path, value)
        elif isinstance(value, Decimal | datetime | date):
            raise ValidationError(f"{path} must be text, a number, true, false or null")
        else:
            _check_scalar(path, value)

    def _enter(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ValidationError(f"{self.field} nests deeper than {MAX_DEPTH} levels")

    def _count(self, chars: int) -> None:
        self.entries += 1
        self.chars += chars
        if self.entries > MAX_FREE_FORM_ENTRIES:
            msg = f"{self.field} has more than {MAX_FREE_FORM_ENTRIES} entries in all"
            raise ValidationError(msg)
        if self.chars > MAX_FREE_FORM_CHARS:
            msg = f"{self.field} holds more than {MAX_FREE_FORM_CHARS} characters in all"
            raise ValidationError(msg)


def check_reason(reason: object) -> None:
    """A reason given for an action: a short text that may hold line breaks."""
    check_fields({"reason": reason}, {"reason": str}, "reason")


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
