"""Size limits for free-form values, checked where the values enter the domain."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import ValidationError

MAX_TEXT = 20_000
MAX_SHORT_TEXT = 500
MAX_LIST = 50
LONG_TEXT_FIELDS = frozenset({"bio", "education"})


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
