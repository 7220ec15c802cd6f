"""Keeping personal data out of log lines: structlog processors that every line (ours, and the
standard-library records of uvicorn, eventsourcing and the rest) passes before it is rendered.

- Fields whose key names personal data (`name`, `phone`, `email`, `reason`, `notes`, ...) are
  masked wherever they sit: top level, nested mappings, msgspec Structs and dataclasses (commands,
  domain events) logged as values.
- `PersonalData` renders as its subject id only.
- Exceptions render as their class, where they were raised and database codes, with the
  traceback's frames, but not their messages: a driver echoes row data in its errors, a decoder
  its input. Domain errors keep their messages (we write them, naming fields and ids only).
- E-mail addresses in free text are masked as a last line of defence; a message should name ids,
  and carry anything else as a keyword field, where the key decides."""

from __future__ import annotations

import dataclasses
import re
import sys
import traceback
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.personal import PersonalData
from projections.delivery import failure_summary

MASK = "[redacted]"

# Keys whose values are a person's own data. Matched whole, after lower-casing.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "name_key",
        "first_name",
        "last_name",
        "full_name",
        "given_name",
        "family_name",
        "patient_name",
        "display_name",
        "birth_date",
        "date_of_birth",
        "dob",
        "sex",
        "gender",
        "phone",
        "mobile",
        "email",
        "address",
        "postal_code",
        "zip",
        "reason",
        "symptoms",
        "notes",
        "private_notes",
        "clinical_notes",
        "vitals",
        "comment",
        "comments",
        "message",
        "body",
        "details",
        "q",
        "query",
        "prefix",
        "query_string",
    }
)
# ... and keys ending in one of these (`contact_email`, `home_address`, `cancel_reason`).
PERSONAL_SUFFIXES = ("_phone", "_email", "_address", "_notes", "_reason", "_comment", "_comments")
# Keys structlog itself adds or renders; never masked.
RESERVED = frozenset({"event", "level", "logger", "timestamp", "exception", "_record"})

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAX_DEPTH = 6


def is_personal_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return lowered in PERSONAL_KEYS or lowered.endswith(PERSONAL_SUFFIXES)


def scrub_text(text: str) -> str:
    return EMAIL.sub(MASK, text)


def redact_value(value: Any, depth: int = 0) -> Any:
    """`value` made safe to log: personal fields masked, personal data shown by subject only,
    Structs and dataclasses turned into masked mappings."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, PersonalData):
        return f"<personal data of {value.subject}>"
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, Mapping):
        return _masked(value.items(), depth)
    if isinstance(value, msgspec.Struct):
        fields = ((f, getattr(value, f)) for f in value.__struct_fields__)
        return {"type": type(value).__qualname__, **_masked(fields, depth)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {"type": type(value).__qualname__, **_masked(fields, depth)}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if isinstance(value, BaseException):
        return failure_summary(value)
    # Anything else is shown by its type only: its repr might hold anything.
    return f"<{type(value).__name__}>"


def _masked(items: Any, depth: int) -> dict[str, Any]:
    return {str(k): MASK if is_personal_key(k) else redact_value(v, depth + 1) for k, v in items}


def redact_fields(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The structlog processor: masks every field of the event but structlog's own."""
    for key, value in list(event_dict.items()):
        if key in ("_record", "_from_structlog", "exc_info", "stack_info"):
            continue
        if key == "event":
            event_dict[key] = scrub_text(value) if isinstance(value, str) else redact_value(value)
        elif key in RESERVED:
            continue
        elif is_personal_key(key):
            event_dict[key] = MASK
        else:
            event_dict[key] = redact_value(value)
    return event_dict


def render_exception(error: BaseException) -> str:
    """A traceback with every message replaced by `failure_summary`: the frames (file, line,
    function, source line) say where; no value of the failing data is shown."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        # The context even when suppressed (`raise ... from None`): without messages it leaks
        # nothing, and it is where a wrapped database error's codes are.
        current = current.__cause__ or current.__context__
    lines: list[str] = []
    for link in reversed(chain):
        if lines:
            lines.append("\nwhich led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(link.__traceback__)))
        lines.append(failure_summary(link) + "\n")
    return "".join(lines).rstrip("\n")


def safe_exceptions(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Replaces `exc_info` (structlog's or a standard-library record's) with a rendered
    traceback without messages, before any renderer could print the original."""
    exc_info = event_dict.pop("exc_info", None)
    error: BaseException | None = None
    if isinstance(exc_info, BaseException):
        error = exc_info
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        error = exc_info[1]
    elif exc_info is True:
        error = sys.exc_info()[1]
    if error is not None:
        event_dict["exception"] = render_exception(error)
        event_dict.setdefault("error", failure_summary(error))
    return event_dict
