"""Personal data withheld from integration events: each `PersonalData` value leaves as
`{"subject": <patient id>}` only, so no topic ever holds a value an erasure would have to reach."""

from __future__ import annotations

import typing
from typing import Any
from uuid import UUID

import msgspec

from domain.personal import PersonalData


class Withheld(msgspec.Struct, frozen=True, kw_only=True):
    """A personal value left out of the integration event: whose it is (None for a value
    recorded before personal data was tagged with its subject). Read it through the API."""

    subject: UUID | None


class PersonalDataWithheldError(ValueError):
    """The integration event withheld personal data: read the event from the event store."""


def withhold(value: Any) -> tuple[Any, bool]:
    """`value` with every personal value replaced by its `Withheld` form; whether any was."""
    if isinstance(value, PersonalData):
        return Withheld(subject=value.subject), True
    if isinstance(value, dict):
        pairs = {k: withhold(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(w for _, w in pairs.values())
    return value, False


def is_personal(hint: Any) -> bool:
    return hint is PersonalData or PersonalData in typing.get_args(hint)
