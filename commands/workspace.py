"""Aggregates loaded for one command attempt, each at most once, so that two steps touching
the same aggregate (say, one agenda day) change one instance and save it once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from commands.application import SlotwiseApplication

T = TypeVar("T", bound=Aggregate)


class Workspace:
    def __init__(self, app: SlotwiseApplication) -> None:
        self._app = app
        self._loaded: dict[UUID, Aggregate] = {}

    def get(self, cls: type[T], aggregate_id: UUID, what: str) -> T:
        found = self._loaded.get(aggregate_id)
        if found is None:
            found = self._app.load(cls, aggregate_id, what)
            self._loaded[aggregate_id] = found
        if not isinstance(found, cls):
            raise TypeError(f"{aggregate_id} is not a {cls.__name__}")
        return found

    def read_ahead(self, ids: Iterable[UUID]) -> None:
        """Aggregates this command will load next, read in one round trip now."""
        self._app.read_ahead(i for i in ids if i not in self._loaded)

    def get_or_create(self, cls: type[T], aggregate_id: UUID, create: Callable[[], T]) -> T:
        found = self._loaded.get(aggregate_id)
        if found is None:
            found = self._app.load_or_none(cls, aggregate_id) or create()
            self._loaded[aggregate_id] = found
        if not isinstance(found, cls):
            raise TypeError(f"{aggregate_id} is not a {cls.__name__}")
        return found

    def find(self, cls: type[T], aggregate_id: UUID) -> T | None:
        """The aggregate if it exists, loaded once; None (and nothing created) otherwise."""
        found = self._loaded.get(aggregate_id)
        if found is None:
            found = self._app.load_or_none(cls, aggregate_id)
            if found is None:
                return None
            self._loaded[aggregate_id] = found
        return found if isinstance(found, cls) else None

    def add(self, aggregate: T) -> T:
        self._loaded[aggregate.id] = aggregate
        return aggregate

    def touched(self) -> list[Aggregate]:
        """Only aggregates with new events; the rest need not be saved."""
        return [a for a in self._loaded.values() if a.pending_events]
