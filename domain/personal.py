"""Personal data: a data subject's own values (name, phone, reason, notes, symptoms, vitals)
carried in events tied to the subject they belong to, so that storage can encrypt each value with
that subject's key and erase it everywhere by destroying the key (crypto-shredding).

Pure: how values are encrypted, and where keys live, is infra's business. Ids, times, statuses and
codes are not personal data here; they stay plain so projections and audits keep working."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias
from uuid import UUID

from domain.errors import ConflictError

JSONValue: TypeAlias = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None

# What an erased value reads as: in read models, documents and API responses alike.
ERASED = "[erased]"


class SubjectErasedError(ConflictError):
    """The data subject was erased: no personal data of theirs may be recorded again."""


@dataclass(frozen=True, repr=False)
class PersonalData:
    """One personal value of one data subject (a patient id).

    `value` is JSON-able: text for names and notes, a list for symptoms, a mapping for vitals.
    An erased value (`PersonalData.erased(subject)`) keeps its subject, has `is_erased` set and
    reads as the `ERASED` marker. `repr` and `str` never show the value, so a log line or an
    error message that formats one leaks nothing."""

    subject: UUID
    value: JSONValue
    is_erased: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.subject, UUID):
            raise TypeError(f"a data subject is a UUID, not {type(self.subject).__name__}")
        if self.is_erased and self.value != ERASED:
            raise ValueError("an erased value reads as the erased marker only")
        _check_json(self.value)

    @classmethod
    def erased(cls, subject: UUID) -> PersonalData:
        """The tombstone of a value whose subject's key was destroyed."""
        return cls(subject, ERASED, is_erased=True)

    @property
    def text(self) -> str:
        """The value as text (the marker once erased); for values that are text."""
        if isinstance(self.value, str):
            return self.value
        raise TypeError(f"this personal value is {type(self.value).__name__}, not text")

    def __hash__(self) -> int:
        # Lists and mappings are unhashable; equal values share subject and erasure anyway.
        return hash((self.subject, self.is_erased))

    def __repr__(self) -> str:
        shown = "erased" if self.is_erased else "redacted"
        return f"PersonalData(subject={self.subject}, value=<{shown}>)"

    __str__ = __repr__


def personal(subject: UUID, value: PersonalData | JSONValue) -> PersonalData:
    """`value` as the subject's personal data. A value already wrapped is kept as it is; a plain
    one (an event written before personal data was wrapped, say) is wrapped now."""
    if isinstance(value, PersonalData):
        if value.subject != subject:
            raise ValueError("this personal value belongs to another data subject")
        return value
    return PersonalData(subject, value)


def text_of(value: PersonalData | str | None) -> str | None:
    """Text for a read model or a response: the clear value, the erased marker, or None.
    Accepts plain strings too, for events recorded before personal data was wrapped."""
    if value is None or isinstance(value, str):
        return value
    return value.text


def _check_json(value: object) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("personal values hold finite numbers only")
        return
    if isinstance(value, list):
        for item in value:
            _check_json(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("personal mappings have text keys only")
            _check_json(item)
        return
    raise TypeError(f"a personal value is JSON-able data, not {type(value).__name__}")
