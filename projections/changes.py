"""Row changes a projection asks its view to make, all in one transaction with the position.

Projections decide *what* changes (pure, unit-testable); the view in infra/ decides *how*."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder


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


Change = Upsert | Update | Delete


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


Handler = Callable[[Any], list[Change]]


class Handlers:
    """One projection's event handlers, each registered under the event's `Aggregate.Event`
    name (its class qualname). Events without a handler make no changes, yet the projection
    still records their position."""

    def __init__(self) -> None:
        self._by_name: dict[str, Handler] = {}

    def on(self, event_name: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of `event_name`."""

        def register(handler: Handler) -> Handler:
            if event_name in self._by_name:
                raise ValueError(f"{event_name} already has a handler")
            self._by_name[event_name] = handler
            return handler

        return register

    def changes_for(self, event: Any) -> list[Change]:
        """The row changes one domain event makes; events without a handler make none."""
        handler = self._by_name.get(type(event).__qualname__)
        return handler(event) if handler else []

    def __contains__(self, event_name: object) -> bool:
        return event_name in self._by_name
