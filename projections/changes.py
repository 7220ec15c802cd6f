"""Row changes a projection asks its view to make, all in one transaction with the position.

Projections decide *what* changes (pure, unit-testable); the view in infra/ decides *how*."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection


@dataclass(frozen=True)
class Upsert:
    table: str
    key: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    """Set `values` on the row with `key`; columns named in `merge` are JSON objects whose
    keys are merged into the stored object instead of replacing it."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]
    merge: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Delete:
    table: str
    key: dict[str, Any]


@dataclass(frozen=True)
class Redact:
    """On every row matching `key` (any columns, not only the primary key), replace the text in
    each of `columns` with `marker`, except where it is NULL or one of `keep` (texts the system
    wrote, not the data subject, which a rebuild writes again as they are)."""

    table: str
    key: dict[str, Any]
    columns: tuple[str, ...]
    marker: str
    keep: tuple[str, ...] = ()


Change = Upsert | Update | Delete | Redact


class RowView(TrackingRecorder, ABC):
    """A read-model store that applies changes and records the tracking position atomically."""

    @abstractmethod
    def apply(
        self,
        changes: Sequence[Change],
        tracking: Tracking,
        identity: tuple[UUID, int] | None = None,
    ) -> None:
        """Make the changes and record `tracking` (and the event's aggregate id and version,
        when given) in one transaction."""


E = TypeVar("E")
R = TypeVar("R")


class Handlers(Generic[R]):
    """Event handlers, each registered under its event class (`@on(Slot.SeatTaken)`) and typed
    with it, so a renamed or removed event fails the type check instead of matching nothing.
    An event whose class (or a class it derives from) has no handler gets `otherwise()`."""

    def __init__(self, otherwise: Callable[[], R]) -> None:
        self._otherwise = otherwise
        self._by_class: dict[type[Any], Callable[[Any], R]] = {}

    def on(self, event_class: type[E]) -> Callable[[Callable[[E], R]], Callable[[E], R]]:
        """Register the decorated function as the handler of `event_class`."""

        def register(handler: Callable[[E], R]) -> Callable[[E], R]:
            if event_class in self._by_class:
                raise ValueError(f"{event_class.__qualname__} already has a handler")
            self._by_class[event_class] = handler
            return handler

        return register

    def __call__(self, event: object) -> R:
        for event_class in type(event).__mro__:
            handler = self._by_class.get(event_class)
            if handler is not None:
                return handler(event)
        return self._otherwise()

    def __contains__(self, event_class: object) -> bool:
        return event_class in self._by_class

    def __iter__(self) -> Iterator[type[Any]]:
        return iter(self._by_class)


class RowProjection(Projection[RowView]):
    """A projection that writes the row changes its handlers make of each event, with the
    event's position and identity, in one transaction. Every event advances the position,
    including those that change no row, so a caller waiting for the position a command
    returned is never left waiting on an event the read model ignores."""

    handlers: ClassVar[Handlers[list[Change]]]

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        identity = (domain_event.originator_id, domain_event.originator_version)
        self.view.apply(self.handlers(domain_event), tracking, identity)
