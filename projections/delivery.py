"""What a projection fed by a message broker records, as types its store implements, and what an
operator sees of and does to its dead letters."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Literal, Protocol
from uuid import UUID

from domain.errors import DomainError
from projections.changes import Change

# open: the projection is stopped before it; retry: asked to try again; skipped: passed over;
# resolved: applied after all.
LetterState = Literal["open", "retry", "skipped", "resolved"]
BLOCKING: tuple[LetterState, ...] = ("open", "retry")

# Identifiers a database error carries besides its message (psycopg's `diag`): names, not values.
_DIAG_NAMES = ("schema_name", "table_name", "column_name", "constraint_name")


def failure_summary(error: BaseException, depth: int = 3) -> str:
    """What went wrong, without the values involved: the error's class, where it was raised and,
    for a database error, its SQLSTATE and the names of the table, column and constraint.

    Messages are left out (a driver echoes row data, a decoder its input, a KeyError the key)
    except a domain error's, which we write ourselves and which names fields and ids only."""
    kind = type(error)
    parts = [
        kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    ]
    if isinstance(error, DomainError):
        parts[0] += f": {error}"
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        diag = getattr(error, "diag", None)
        names = [f"{n}={v}" for n in _DIAG_NAMES if isinstance(v := getattr(diag, n, None), str)]
        parts.append(f"(sqlstate {sqlstate}{''.join(', ' + n for n in names)})")
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        parts.append(
            f"at {'/'.join(PurePath(last.filename).parts[-2:])}:{last.lineno} in {last.name}"
        )
    # A library's wrapper (eventsourcing's IntegrityError) hides the database's codes; its cause
    # says them, even where it was re-raised `from None` (the context is kept then).
    cause = error.__cause__ or error.__context__
    if cause is not None and depth > 1:
        parts.append(f"<- {failure_summary(cause, depth - 1)}")
    return " ".join(parts)


@dataclass(frozen=True)
class Applicable:
    aggregate_id: UUID
    version: int
    event_type: str
    position: int | None
    changes: list[Change]
    # Why the projection could not compute the changes, if it could not (`failure_summary`).
    error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    event_id: UUID
    position: int
    aggregate_id: UUID
    aggregate_version: int
    event_type: str
    error: str  # `failure_summary`: class, place, database codes; never the event's values
    attempts: int
    skipped: bool
    topic: str | None = None


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
