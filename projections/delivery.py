"""What a projection fed by a message broker records, as types its store implements, and what an
operator sees of and does to its dead letters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from projections.changes import Change

# open: the projection is stopped before it; retry: asked to try again; skipped: passed over;
# resolved: applied after all.
LetterState = Literal["open", "retry", "skipped", "resolved"]
BLOCKING: tuple[LetterState, ...] = ("open", "retry")


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
    topic: str | None = None


def reason_of(error: BaseException) -> str:
    """The kind of error and the first line of its message: database errors put the values
    involved (which may be personal data) on the lines after it."""
    lines = str(error).strip().splitlines()
    first = lines[0][:300] if lines else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class ProjectionState(Protocol):
    def versions(self, ids: Iterable[UUID]) -> dict[UUID, int]: ...

    def apply(
        self, events: Sequence[Applicable], offsets: Mapping[tuple[str, int], int]
    ) -> int: ...

    def watermark(self) -> int: ...

    def set_watermark(self, position: int) -> None: ...

    def dead_letter(self, letter: DeadLetter) -> LetterState:
        """Record `letter` (again) and return its state: an operator may have skipped it."""
        ...

    def letter_state(self, event_id: UUID) -> LetterState | None: ...

    def record_error(self, error: str | None) -> None: ...


@dataclass(frozen=True)
class LetterSummary:
    id: int
    projection: str
    event_id: UUID
    position: int
    topic: str | None
    event_type: str
    state: LetterState
    reason: str
    attempts: int
    failed_at: datetime


@dataclass(frozen=True)
class LetterAction:
    action: Literal["skip", "retry"]
    operator: str
    reason: str
    acted_at: datetime


@dataclass(frozen=True)
class LetterDetail:
    letter: LetterSummary
    aggregate_id: UUID
    aggregate_version: int
    actions: list[LetterAction]


class UnknownLetterError(LookupError):
    """No dead letter has that id."""


class LetterNotBlockingError(ValueError):
    """The dead letter was already skipped or resolved."""


class DeadLetters(Protocol):
    """The operator's side: look at dead letters, skip one or ask for a retry (audited)."""

    def list(self, projection: str | None = None) -> list[LetterSummary]: ...

    def show(self, letter_id: int) -> LetterDetail: ...

    def act(
        self, letter_id: int, action: Literal["skip", "retry"], operator: str, reason: str
    ) -> LetterSummary: ...
