"""Fakes of our own ports (commands/ports.py). The one place tests get them from."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.personal import SubjectErasedError


class FixedClock:
    """A `commands.ports.Clock` that stands still until a test sets or advances it."""

    def __init__(self, at: datetime) -> None:
        self._now = self._aware(at)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = self._aware(at)

    def advance(self, by: timedelta | None = None, **units: float) -> datetime:
        """Move forward by `by` or by `timedelta(**units)`; returns the new instant."""
        step = by if by is not None else timedelta(**units)
        self._now += step
        return self._now

    @staticmethod
    def _aware(at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"a clock tells aware instants only, got naive {at!r}")
        return at.astimezone(UTC)


class BrokenClock:
    """A clock whose failure stands in for any unexpected internal error."""

    def now(self) -> datetime:
        raise RuntimeError("secret internal detail: connection string postgres://user:pw@db")


class FixedPositions:
    """A `projections.positions.PositionWaits` whose projections stand still at `positions`
    (0 for any other) under a log whose last position is `head`: a position not yet applied
    is never reached, so the wait answers False at once instead of after its timeout."""

    def __init__(self, head: int, **positions: int) -> None:
        self.head = head
        self.positions = positions
        self.full = False  # True: every wait is refused as one too many
        self.asked: list[tuple[str, int]] = []

    @property
    def waiting(self) -> int:
        return 0

    async def wait_for(self, projection: str, position: int, timeout: float) -> bool:
        from projections.positions import BeyondLogHeadError, TooManyWaitersError

        self.asked.append((projection, position))
        if self.positions.get(projection, 0) >= position:
            return True
        if self.full:
            raise TooManyWaitersError("too many reads are waiting")
        if position > self.head:
            raise BeyondLogHeadError(position, self.head)
        return False


class StillQueries:
    """A `projections.queries.SchedulingQueries` whose read model never moves and holds nothing."""

    def __init__(self, position: int = 0) -> None:
        self._position = position

    def wait_for(self, position: int, timeout: float) -> bool:
        return self._position >= position

    def position(self) -> int:
        return self._position

    def appointment(self, appointment_id: object) -> None:
        return None

    def appointments(self, wanted: object, now: datetime) -> object:
        from projections.queries import Page

        return Page(items=[], limit=50, offset=0, next_offset=None)

    def available_slots(self, wanted: object, now: datetime) -> object:
        from projections.queries import Page

        return Page(items=[], limit=50, offset=0, next_offset=None)

    def schedule(self, provider_id: object, first: object, last: object, now: datetime) -> None:
        return None

    def no_shows(self, start_from: datetime, start_to: datetime) -> list[object]:
        return []

    def expired_holds(self, now: datetime, limit: int) -> list[object]:
        return []


class StillAnalytics:
    """A `projections.analytics_queries.AnalyticsQueries` whose model never moves and is empty,
    so every figure is a zero count or a null ratio."""

    def __init__(self, position: int = 0) -> None:
        self._position = position

    def wait_for(self, position: int, timeout: float) -> bool:
        return self._position >= position

    def position(self) -> int:
        return self._position

    def appointments(
        self, start_from: datetime, start_to: datetime, group_by: object, provider_id: object
    ) -> object:
        from projections.analytics_queries import AppointmentAnalytics, AppointmentFigures, Counts

        empty = Counts(
            appointments=0,
            booked=0,
            due=0,
            completed=0,
            no_shows=0,
            cancelled=0,
            late_cancelled=0,
        )
        return AppointmentAnalytics(
            start_from=start_from,
            start_to=start_to,
            group_by=group_by,
            totals=AppointmentFigures.of(empty),
            groups=[],
        )

    def utilization(self, start_from: datetime, start_to: datetime, provider_id: object) -> object:
        from decimal import Decimal

        from projections.analytics_queries import Utilization, UtilizationReport

        return UtilizationReport(
            start_from=start_from,
            start_to=start_to,
            totals=Utilization.of(0, Decimal(0), Decimal(0), 0),
            providers=[],
        )


class MemoryRows:
    """A `projections.changes.RowView` on dicts, applying changes as PostgresRowView does to
    tables: an upsert inserts the row or sets the given columns, an update or delete of a
    missing row does nothing. It records each tracking position it was given."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.positions: list[int] = []
        self.versions: dict[Any, int] = {}

    def apply(self, changes: Sequence[Any], tracking: Any, identity: Any = None) -> None:
        from projections.changes import Delete, Update

        for change in changes:
            table = self.tables.setdefault(change.table, {})
            key = tuple(sorted(change.key.items()))
            if isinstance(change, Delete):
                table.pop(key, None)
            elif isinstance(change, Update):
                if key in table:
                    table[key].update(change.values)
            else:
                table.setdefault(key, dict(change.key)).update(change.values)
        self.positions.append(tracking.notification_id)
        if identity is not None:
            aggregate_id, version = identity
            self.versions[aggregate_id] = max(self.versions.get(aggregate_id, 0), version)

    def row(self, table: str, **key: Any) -> dict[str, Any] | None:
        return self.tables.get(table, {}).get(tuple(sorted(key.items())))


class ScriptedDeliveries:
    """A `workers.kafka_projection.Deliveries` that hands out prepared messages in order."""

    def __init__(self) -> None:
        self.queue: list[Any] = []
        self.closed = False

    def push(self, topic: str, partition: int, offset: int, value: bytes) -> None:
        from infra.kafka.deliveries import Delivery

        self.queue.append(Delivery(topic, partition, offset, value))

    def poll(self, max_messages: int, timeout: float) -> list[Any]:
        batch, self.queue = self.queue[:max_messages], self.queue[max_messages:]
        return batch

    def close(self) -> None:
        self.closed = True


class RecordingSearch:
    """A `projections.search.SearchBackend` (and its position) that finds nothing and
    records what it was asked, so edge tests can check what a request turned into."""

    def __init__(self, position: int = 0) -> None:
        self._position = position
        self.asked: list[tuple[str, Any]] = []

    def wait_for(self, position: int, timeout: float) -> bool:
        return self._position >= position

    def providers(self, query: Any, now: datetime) -> Any:
        from projections.search import ProviderResults

        self.asked.append(("providers", query))
        return ProviderResults(hits=[], total=0, facets={}, limit=query.limit, offset=query.offset)

    def slots(self, query: Any, now: datetime) -> Any:
        from projections.search import SlotResults

        self.asked.append(("slots", query))
        return SlotResults(hits=[], total=0, limit=query.limit, offset=query.offset)

    def autocomplete(self, prefix: str, limit: int) -> list[Any]:
        self.asked.append(("autocomplete", (prefix, limit)))
        return []

    def notes(self, text: str, scope: Any, limit: int) -> list[Any]:
        self.asked.append(("notes", (text, scope, limit)))
        return []


class ReplayLoader:
    """A `projections.search_projection.AggregateAt` over a list of domain events: rebuilds
    the aggregate from its events up to the version asked for, as the event store would."""

    def __init__(self, events: Sequence[Any] = ()) -> None:
        self.events: list[Any] = list(events)
        self.loaded: list[tuple[Any, int]] = []

    def __call__(self, aggregate_id: Any, version: int) -> object:
        self.loaded.append((aggregate_id, version))
        aggregate: Any = None
        for event in self.events:
            if event.originator_id == aggregate_id and event.originator_version <= version:
                aggregate = event.mutate(aggregate)
        return aggregate


class MemorySearchSink:
    """A `projections.search_projection.SearchSink` that keeps what it was given: every write
    (documents and position) in order."""

    def __init__(self) -> None:
        self.writes: list[tuple[list[Any], int]] = []

    def write(self, documents: Sequence[Any], tracking: Any) -> None:
        self.writes.append((list(documents), tracking.notification_id))

    @property
    def positions(self) -> list[int]:
        return [position for _, position in self.writes]


class InMemoryKeyStore:
    """A `commands.ports.KeyStore` in a dict, with the same rules as the real one: one key per
    subject, and never one again after it was destroyed."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes] = {}
        self.destroyed: set[UUID] = set()

    def create(self, subject: UUID) -> bytes:
        if subject in self.destroyed:
            raise SubjectErasedError(f"data subject {subject} was erased")
        return self.keys.setdefault(subject, secrets.token_bytes(32))

    def get(self, subject: UUID) -> bytes | None:
        return self.keys.get(subject)

    def destroy(self, subject: UUID) -> None:
        self.keys.pop(subject, None)
        self.destroyed.add(subject)
