"""Size limits for free-form values, checked where the values enter the domain."""

from __future__ import annotations

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
