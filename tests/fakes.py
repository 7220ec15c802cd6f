"""Fakes of our own ports (commands/ports.py and the read-side Protocols). The one place tests
get them from. Each fake subclasses the port it stands in for, so mypy checks every method
against the port and a port that changes fails the type check instead of a test at run time."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from commands.ports import Clock, KeyStore
from domain.errors import NotFoundError
from domain.personal import SubjectErasedError
from infra.kafka.deliveries import Delivery
from projections.access_queries import HORIZON_DAYS, AccessReport, AccessSeries
from projections.analytics_queries import (
    AnalyticsQueries,
    AppointmentAnalytics,
    AppointmentFigures,
    Counts,
    Grouping,
    Utilization,
    UtilizationReport,
)
from projections.audit.access import AccessLog, AccessRecord
from projections.changes import Change, Delete, Redact, RowView, Update
from projections.demographics_queries import THRESHOLD, Demographics, Dimension
from projections.directory import (
    DirectoryFilter,
    DirectoryQueries,
    PatientView,
    ProviderView,
    SlotSearch,
)
from projections.patient_queries import PatientFigures
from projections.performance_queries import PerformanceReport
from projections.positions import BeyondLogHeadError, PositionWaits, TooManyWaitersError
from projections.queries import (
    AppointmentFilter,
    AppointmentView,
    NoShowRow,
    Page,
    ProviderSchedule,
    SchedulingQueries,
    SlotFilter,
    SlotView,
)
from projections.report_queries import SavedReportView
from projections.revenue_queries import RevenueGrouping, RevenueReport
from projections.search import (
    NoteHit,
    NoteScope,
    ProviderQuery,
    ProviderResults,
    SearchBackend,
    SlotQuery,
    SlotResults,
    Suggestion,
)
from projections.search_projection import AggregateAt, SearchDocument, SearchSink
from projections.video_queries import NoShowCandidate, RoomPlan, VideoQueries, VideoVisit
from workers.kafka_projection import Deliveries


class FixedClock(Clock):
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


class BrokenClock(Clock):
    """A clock whose failure stands in for any unexpected internal error."""

    def now(self) -> datetime:
        raise RuntimeError("secret internal detail: connection string postgres://user:pw@db")


class FixedPositions(PositionWaits):
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
        self.asked.append((projection, position))
        if self.positions.get(projection, 0) >= position:
            return True
        if self.full:
            raise TooManyWaitersError("too many reads are waiting")
        if position > self.head:
            raise BeyondLogHeadError(position, self.head)
        return False


class StillQueries(SchedulingQueries):
    """A `projections.queries.SchedulingQueries` whose read model never moves and holds nothing."""

    def __init__(self, position: int = 0) -> None:
        self._position = position

    def position(self) -> int:
        return self._position

    def appointment(self, appointment_id: UUID) -> AppointmentView | None:
        return None

    def appointments(self, wanted: AppointmentFilter, now: datetime) -> Page[AppointmentView]:
        return Page(items=[], limit=50, offset=0, next_offset=None)

    def available_slots(self, wanted: SlotFilter, now: datetime) -> Page[SlotView]:
        return Page(items=[], limit=50, offset=0, next_offset=None)

    def schedule(
        self, provider_id: UUID, first_day: date, last_day: date, now: datetime
    ) -> ProviderSchedule | None:
        return None

    def no_shows(self, start_from: datetime, start_to: datetime) -> list[NoShowRow]:
        return []

    def expired_holds(self, now: datetime, limit: int) -> list[UUID]:
        return []


class ListedDirectory(DirectoryQueries):
    """A `projections.directory.DirectoryQueries` over the views it is given, filtered by id,
    name and specialty (slots: by provider only); it records what it was asked."""

    def __init__(
        self,
        providers: Sequence[ProviderView] = (),
        patients: Sequence[PatientView] = (),
        slots: Sequence[SlotView] = (),
        appointments: int = 0,
    ) -> None:
        self._providers, self._patients, self._slots = list(providers), list(patients), slots
        self._appointments = appointments
        self.asked: list[DirectoryFilter | SlotSearch | AppointmentFilter] = []

    def provider(self, provider_id: UUID) -> ProviderView | None:
        return next((p for p in self._providers if p.id == provider_id), None)

    def providers(self, wanted: DirectoryFilter) -> Page[ProviderView]:
        self.asked.append(wanted)
        found = [
            p
            for p in self._providers
            if (not wanted.ids or p.id in wanted.ids)
            and (wanted.name is None or wanted.name.lower() in p.name.lower())
            and (wanted.specialty is None or wanted.specialty in p.specializations)
        ]
        return _listed(found, wanted.limit, wanted.offset)

    def patient(self, patient_id: UUID) -> PatientView | None:
        return next((p for p in self._patients if p.id == patient_id), None)

    def patients(self, wanted: DirectoryFilter) -> Page[PatientView]:
        self.asked.append(wanted)
        found = [p for p in self._patients if not wanted.ids or p.id in wanted.ids]
        return _listed(found, wanted.limit, wanted.offset)

    def slot(self, slot_id: UUID, now: datetime) -> SlotView | None:
        return next((s for s in self._slots if s.id == slot_id), None)

    def slots(self, wanted: SlotSearch, now: datetime) -> Page[SlotView]:
        self.asked.append(wanted)
        found = [s for s in self._slots if wanted.provider_id in (None, s.provider_id)]
        return _listed(found, wanted.limit, wanted.offset)

    def appointment_total(self, wanted: AppointmentFilter) -> int:
        self.asked.append(wanted)
        return self._appointments


def _listed(found: list[Any], limit: int, offset: int) -> Page[Any]:
    after = offset + limit
    return Page(
        items=found[offset:after],
        limit=limit,
        offset=offset,
        next_offset=after if after < len(found) else None,
        total=len(found),
    )


class StillAnalytics(AnalyticsQueries):
    """A `projections.analytics_queries.AnalyticsQueries` whose model never moves and is empty,
    so every figure is a zero count or a null ratio."""

    def __init__(self, position: int = 0) -> None:
        self._position = position

    def position(self) -> int:
        return self._position

    def appointments(
        self,
        start_from: datetime,
        start_to: datetime,
        group_by: Grouping | None,
        provider_id: UUID | None = None,
    ) -> AppointmentAnalytics:
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

    def utilization(
        self, start_from: datetime, start_to: datetime, provider_id: UUID | None = None
    ) -> UtilizationReport:
        return UtilizationReport(
            start_from=start_from,
            start_to=start_to,
            totals=Utilization.of(0, Decimal(0), Decimal(0), 0),
            providers=[],
        )

    # issue 14: the analysts' measures, empty
    def revenue(
        self,
        start_from: datetime,
        start_to: datetime,
        group_by: RevenueGrouping | None,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> RevenueReport:
        return RevenueReport(
            start_from=start_from,
            start_to=start_to,
            previous_from=start_from - (start_to - start_from),
            group_by=group_by,
            currencies=[],
        )

    def performance(
        self,
        start_from: datetime,
        start_to: datetime,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> PerformanceReport:
        return PerformanceReport(
            start_from=start_from,
            start_to=start_to,
            previous_from=start_from - (start_to - start_from),
            providers=[],
        )

    def access(
        self, reference: datetime, provider_id: UUID | None = None, kind: str | None = None
    ) -> AccessReport:
        return AccessReport(reference=reference, horizon_days=HORIZON_DAYS, rows=[])

    def access_series(
        self, provider_id: UUID, kind: str, first_day: date, last_day: date
    ) -> AccessSeries:
        raise NotFoundError(f"provider {provider_id} not found")

    def patients(
        self,
        start_from: datetime,
        start_to: datetime,
        retention_days: int,
        provider_id: UUID | None = None,
    ) -> PatientFigures:
        window_ends = start_to + timedelta(days=retention_days)
        return PatientFigures(
            start_from=start_from,
            start_to=start_to,
            provider_id=provider_id,
            retention_days=retention_days,
            retention_window_ends=window_ends,
            seen=0,
            new=0,
            returning=0,
            active=0,
            retained=0,
            retention_rate=None,
        )

    def demographics(
        self,
        start_from: datetime,
        start_to: datetime,
        dimension: Dimension,
        provider_id: UUID | None = None,
    ) -> Demographics:
        return Demographics(
            start_from=start_from,
            start_to=start_to,
            provider_id=provider_id,
            dimension=dimension,
            threshold=THRESHOLD,
            patients=0,
            total_suppressed=False,
            cells=[],
        )

    def saved_reports(self, owner_id: UUID) -> list[SavedReportView]:
        return []

    def saved_report(self, report_id: UUID, owner_id: UUID) -> SavedReportView | None:
        return None


class MemoryRows(RowView):
    """A `projections.changes.RowView` on dicts, applying changes as PostgresRowView does to
    tables: an upsert inserts the row or sets the given columns, an update or delete of a
    missing row does nothing. It records each tracking position it was given."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.positions: list[int] = []
        self.versions: dict[Any, int] = {}

    def apply(
        self,
        changes: Sequence[Change],
        tracking: Tracking,
        identity: tuple[UUID, int] | None = None,
    ) -> None:
        for change in changes:
            table = self.tables.setdefault(change.table, {})
            key = tuple(sorted(change.key.items()))
            if isinstance(change, Redact):
                for row in table.values():
                    if all(row.get(k) == v for k, v in change.key.items()):
                        for column in change.columns:
                            if row.get(column) is not None and row[column] not in change.keep:
                                row[column] = change.marker
            elif isinstance(change, Delete):
                table.pop(key, None)
            elif isinstance(change, Update):
                if key in table:
                    table[key].update(change.values)
            else:
                table.setdefault(key, dict(change.key)).update(change.values)
        self.insert_tracking(tracking)
        if identity is not None:
            aggregate_id, version = identity
            self.versions[aggregate_id] = max(self.versions.get(aggregate_id, 0), version)

    def insert_tracking(self, tracking: Tracking) -> None:
        self.positions.append(tracking.notification_id)

    def max_tracking_id(self, application_name: str) -> int | None:
        return max(self.positions, default=None)

    def row(self, table: str, **key: Any) -> dict[str, Any] | None:
        return self.tables.get(table, {}).get(tuple(sorted(key.items())))


class ScriptedDeliveries(Deliveries):
    """A `workers.kafka_projection.Deliveries` that hands out prepared messages in order."""

    def __init__(self) -> None:
        self.queue: list[Delivery] = []
        self.closed = False
        self.rewound = 0

    def push(self, topic: str, partition: int, offset: int, value: bytes) -> None:
        self.queue.append(Delivery(topic, partition, offset, value))

    def poll(self, max_messages: int, timeout: float) -> list[Delivery]:
        batch, self.queue = self.queue[:max_messages], self.queue[max_messages:]
        return batch

    def rewind(self) -> None:
        self.rewound += 1

    def close(self) -> None:
        self.closed = True


class RecordingSearch(SearchBackend):
    """A `projections.search.SearchBackend` that finds nothing and records what it was asked,
    so edge tests can check what a request turned into."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, object]] = []

    def providers(self, query: ProviderQuery, now: datetime) -> ProviderResults:
        self.asked.append(("providers", query))
        return ProviderResults(hits=[], total=0, facets={}, limit=query.limit, offset=query.offset)

    def slots(self, query: SlotQuery, now: datetime) -> SlotResults:
        self.asked.append(("slots", query))
        return SlotResults(hits=[], total=0, limit=query.limit, offset=query.offset)

    def autocomplete(self, prefix: str, limit: int) -> list[Suggestion]:
        self.asked.append(("autocomplete", (prefix, limit)))
        return []

    def notes(self, text: str, scope: NoteScope, limit: int) -> list[NoteHit]:
        self.asked.append(("notes", (text, scope, limit)))
        return []


class ReplayLoader:
    """A `projections.search_projection.AggregateAt` over a list of domain events: rebuilds
    the aggregate from its events up to the version asked for, as the event store would."""

    def __init__(self, events: Sequence[Any] = ()) -> None:
        self.events: list[Any] = list(events)
        self.loaded: list[tuple[UUID, int]] = []

    def __call__(self, aggregate_id: UUID, version: int) -> object:
        self.loaded.append((aggregate_id, version))
        aggregate: Any = None
        for event in self.events:
            if event.originator_id == aggregate_id and event.originator_version <= version:
                aggregate = event.mutate(aggregate)
        return aggregate


class MemorySearchSink(SearchSink):
    """A `projections.search_projection.SearchSink` that keeps what it was given: every write
    (documents and position) in order."""

    def __init__(self) -> None:
        self.writes: list[tuple[list[SearchDocument], int]] = []

    def write(self, documents: Sequence[SearchDocument], tracking: Tracking) -> None:
        self.writes.append((list(documents), tracking.notification_id))

    def insert_tracking(self, tracking: Tracking) -> None:
        self.writes.append(([], tracking.notification_id))

    def max_tracking_id(self, application_name: str) -> int | None:
        return max(self.positions, default=None)

    @property
    def positions(self) -> list[int]:
        return [position for _, position in self.writes]


class InMemoryKeyStore(KeyStore):
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


if TYPE_CHECKING:
    # AggregateAt is a callable type, not a class to derive from: check the loader against it.
    _loads_aggregates: AggregateAt = ReplayLoader()


class MemoryAccessLog(AccessLog):
    """A `projections.audit.access.AccessLog` keeping records in a list; `broken` makes every
    append fail, as a database outage would."""

    def __init__(self) -> None:
        self.records: list[AccessRecord] = []
        self.broken = False

    def append(self, records: Sequence[AccessRecord]) -> None:
        if self.broken:
            raise ConnectionError("the access log is unavailable")
        self.records.extend(records)


class ListedVideoVisits(VideoQueries):
    """A `projections.video.VideoQueries` over the visits it is given (rooms opened at their
    start, nobody joined): every one is a no-show candidate."""

    def __init__(self, *visits: tuple[UUID, UUID, UUID]) -> None:
        """Each visit as (appointment id, patient id, provider id)."""
        start = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
        self.visits = {
            appointment: VideoVisit(
                appointment_id=appointment,
                patient_id=patient,
                provider_id=provider,
                room_name=f"visit-{appointment}",
                provider="loopback",
                status="open",
                start_at=start,
                end_at=start + timedelta(minutes=30),
                opened_at=start - timedelta(minutes=10),
                closed_at=None,
                close_reason=None,
                consent_recorded_at=None,
                consent_recorded_by=None,
                consent_recorded_by_role=None,
                participants=[],
                recordings=[],
            )
            for appointment, patient, provider in visits
        }

    def due_plans(
        self, now: datetime, lead: timedelta, grace: timedelta, limit: int
    ) -> list[RoomPlan]:
        return []

    def visit(self, appointment_id: UUID) -> VideoVisit | None:
        return self.visits.get(appointment_id)

    def no_show_candidates(
        self, now: datetime, grace: timedelta, limit: int
    ) -> list[NoShowCandidate]:
        return [NoShowCandidate(v.appointment_id, v.patient_id) for v in self.visits.values()]

    def position(self) -> int:
        return 0


class ListedWaitlist:
    """A `projections.waitlist_queries.WaitlistQueries` over entries a test lists itself."""

    def __init__(self, entries: Sequence[Any] = ()) -> None:
        self.entries = list(entries)

    def entries_of(self, patient_id: UUID, limit: int) -> list[Any]:
        return [e for e in self.entries if e.patient_id == patient_id][:limit]

    def entry(self, entry_id: UUID) -> Any:
        return next((e for e in self.entries if e.id == entry_id), None)

    def queue(self, provider_id: UUID | None, specialty: str | None, limit: int) -> list[Any]:
        return []

    def metrics(self, provider_id: UUID, start: datetime, end: datetime) -> Any:
        raise NotImplementedError("metrics are tested on PostgreSQL")
