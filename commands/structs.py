"""Shared pieces of command Structs: strict, unknown fields rejected, aware datetimes only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.limits import FreeForm

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
ShortText = Annotated[str, msgspec.Meta(max_length=500)]
LongText = Annotated[str, msgspec.Meta(max_length=20_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every command. Its class name is the command name recorded on events."""

    def __post_init__(self) -> None:
        # Free-form objects (such as vitals) are bounded as soon as a command is built: the
        # idempotency fingerprint encodes the command before the domain sees it, and encoding
        # an object nested thousands of levels deep would fail with a RecursionError.
        for field in self.__struct_fields__:
            value = getattr(self, field)
            if isinstance(value, dict):
                FreeForm(field).check(value)

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


def encode(command: Command) -> bytes:
    return msgspec.json.encode(command)
