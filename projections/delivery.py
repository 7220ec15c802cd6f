"""What a projection fed by a message broker records, as types its store implements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from projections.changes import Change


@dataclass(frozen=True)
class Applicable:
    aggregate_id: UUID
    version: int
    event_type: str
    position: int | None
    changes: list[Change]
    # Why the projection could not compute the changes, if it could not.
    error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    event_id: UUID
    position: int
    aggregate_id: UUID
    aggregate_version: int
    event_type: str
    error: str
    attempts: int
    skipped: bool


class ProjectionState(Protocol):
    def versions(self, ids: Iterable[UUID]) -> dict[UUID, int]: ...

    def apply(
        self, events: Sequence[Applicable], offsets: Mapping[tuple[str, int], int]
    ) -> int: ...

    def watermark(self) -> int: ...

    def set_watermark(self, position: int) -> None: ...

    def dead_letter(self, letter: DeadLetter) -> None: ...

    def record_error(self, error: str | None) -> None: ...
