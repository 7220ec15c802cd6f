"""Shared pieces of command Structs: strict, unknown fields rejected, aware datetimes only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.limits import FreeForm
from domain.text import Lines, check_text

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
ShortText = Annotated[str, msgspec.Meta(max_length=500)]
LongText = Annotated[str, msgspec.Meta(max_length=20_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every command. Its class name is the command name recorded on events."""

    def __post_init__(self) -> None:
        # The idempotency fingerprint encodes a command before the domain sees it, so what
        # would break encoding is refused as soon as a command is built: text no field may
        # hold (an unpaired surrogate cannot be encoded), and free-form objects (vitals) nested
        # deep enough to exhaust the encoder. The domain applies its full rules afterwards.
        _check_encodable(self)

    @classmethod
    def name(cls) -> str:
        return cls.__name__


class CommandResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a command returns: the ids it touched and the log position of its last event.

    Pass `position` to a query as `min_position` to read your own write."""

    id: UUID
    ids: dict[str, UUID]
    position: int
    replayed: bool = False


def _check_encodable(struct: msgspec.Struct) -> None:
    for field in struct.__struct_fields__:
        value = getattr(struct, field)
        if isinstance(value, str):
            check_text(field, value, Lines.MULTILINE)
        elif isinstance(value, list):
            for index, entry in enumerate(value):
                if isinstance(entry, str):
                    check_text(f"{field}[{index}]", entry, Lines.MULTILINE)
        elif isinstance(value, dict):
            FreeForm(field).check(value)
        elif isinstance(value, msgspec.Struct):
            _check_encodable(value)


def encode(command: Command) -> bytes:
    return msgspec.json.encode(command)
