"""The long-running workers' builders: the relay, a Kafka-fed projection, the log-fed
projections, the hold sweeper and the sealer."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import TrackingRecorder

from commands.ports import Clock, RoomSpec, SystemClock, VideoRooms
from commands.scheduling import Scheduling
from infra.audit import wiring as audit
from infra.bootstrap.base import (
    Say,
    build_scheduling,
    database,
    kafka_servers,
    opensearch_module,
    transient,
    worker_parts,
)
from infra.crypto.wiring import personal_data_keys
from infra.kafka.deliveries import KafkaDeliveries
from infra.kafka.publisher import KafkaPublisher
from infra.kafka.topics import ensure_topics
from infra.postgres.database import (
    eventstore_env,
)
from infra.postgres.pool import connection_pool
from infra.postgres.projection_state import PostgresProjectionState
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.read_models.video import PostgresVideoQueries
from infra.postgres.read_models.waitlist_work import PostgresWaitlistWork
from infra.postgres.rebuild import PROJECTIONS as ROW_PROJECTIONS
from infra.postgres.relay_store import LogListener, PostgresPositions
from infra.postgres.rows import PostgresRowView
from infra.postgres.search.writes import PostgresSearchView
from infra.postgres.tracking import AnnouncedTracking
from infra.settings import Settings, SettingsError, redacted
from infra.video.wiring import video_rooms
from projections.changes import Change, RowView
from projections.delivery import ProjectionState
from projections.integration import ALL_TOPICS
from projections.queries import SchedulingQueries
from projections.search_projection import SearchProjection, SearchSink
from projections.status import PROJECTION_NAMES
from projections.video import VideoProjection
from projections.waitlist import WaitlistProjection


@dataclass(frozen=True)
class Relay:
    app: Scheduling
    publisher: KafkaPublisher
    positions: PostgresPositions
    wait_for_new_events: Callable[[float], bool]


@contextmanager
def relay(settings: Settings, say: Say = print) -> Iterator[Relay]:
    """The event log, a Kafka producer, the relay's position and a LISTEN wake-up."""
    bootstrap = kafka_servers(settings)
    with ExitStack() as stack:
        db, app, pool = worker_parts(settings, say, stack)
        channel: str = app.recorder.channel_name  # type: ignore[attr-defined]
        listener = stack.enter_context(closing(LogListener(db.conninfo, channel)))
        say(f"relaying to {bootstrap}")
        yield Relay(
            app, KafkaPublisher(bootstrap, ALL_TOPICS), PostgresPositions(pool), listener.wait
        )


@dataclass(frozen=True)
class KafkaProjection:
    app: Scheduling
    changes_for: Callable[[Any], list[Change]]
    state: ProjectionState
    deliveries: KafkaDeliveries
    transient: Callable[[BaseException], bool]


@contextmanager
def kafka_projection(settings: Settings, name: str, say: Say = print) -> Iterator[KafkaProjection]:
    """Projection `name` fed by its own consumer group, its state in PostgreSQL."""
    bootstrap = kafka_servers(settings)
    if name not in ROW_PROJECTIONS:
        raise SettingsError(f"{name} reads the event store itself: use --source log")
    with ExitStack() as stack:
        _, app, pool = worker_parts(settings, say, stack, connections=4)
        ensure_topics(bootstrap, ALL_TOPICS)
        state = PostgresProjectionState(pool, name)

        group = f"slotwise.projection.{name}"
        deliveries = KafkaDeliveries(bootstrap, group, ALL_TOPICS, state.stored_offsets)
        say(f"projection {name} consuming from {bootstrap}")
        yield KafkaProjection(app, ROW_PROJECTIONS[name].changes_for, state, deliveries, transient)


@dataclass(frozen=True)
class LogProjections:
    env: dict[str, str]
    app_class: type[Scheduling]  # with this process's personal-data keys
    rows: type[RowView] | None  # for the row projections named, if any
    search: type[SearchSink] | None  # for search, if named
    report: Callable[[str, str | None], None]  # a projection's last error, None once it runs


@contextmanager
def log_projections(
    settings: Settings, names: Collection[str], say: Say = print
) -> Iterator[LogProjections]:
    """The event store's settings and the sinks of the projections `names` read from it."""
    db = database(settings, say)
    search: type[SearchSink] | None = None
    if SearchProjection.name in names:
        search = PostgresSearchView
        if settings.search_backend == "opensearch":
            backend = opensearch_module(settings).OpenSearchBackend.from_url(
                settings.opensearch_url
            )
            backend.ensure_indices()
            sink = importlib.import_module("infra.opensearch.sink")
            search = sink.opensearch_search_view(backend)
            say(f"search documents go to OpenSearch at {redacted(str(settings.opensearch_url))}")
    row_names = {*PROJECTION_NAMES, VideoProjection.name, WaitlistProjection.name}
    rows = PostgresRowView if set(names) & row_names else None
    with (
        personal_data_keys(settings, db.conninfo) as keys,
        connection_pool(db.conninfo, max_size=1) as pool,
    ):

        def report(name: str, error: str | None) -> None:
            PostgresProjectionState(pool, name).record_error(error)

        yield LogProjections(eventstore_env(db, 2), keys.bind(Scheduling), rows, search, report)


@dataclass(frozen=True)
class HoldSweeper:
    app: Scheduling
    queries: SchedulingQueries
    clock: Clock


@contextmanager
def hold_sweeper(settings: Settings, say: Say = print) -> Iterator[HoldSweeper]:
    with ExitStack() as stack:
        _, app, pool = worker_parts(settings, say, stack)
        yield HoldSweeper(app, PostgresSchedulingQueries(pool), SystemClock())


@contextmanager
def sealer(settings: Settings, say: Say = print, log: str = "events") -> Iterator[audit.Sealer]:
    """The sealer of `log` ("events" or "access"): its store, signing key, checkpoint
    directory and wake-up (the event store's LISTEN; access records are polled)."""
    with ExitStack() as stack:
        db, app, pool = worker_parts(settings, say, stack)
        if log == "access":
            yield audit.sealer(settings, app, pool, time.sleep, log)
            return
        channel: str = app.recorder.channel_name  # type: ignore[attr-defined]
        listener = stack.enter_context(closing(LogListener(db.conninfo, channel)))
        yield audit.sealer(settings, app, pool, listener.wait)


@dataclass(frozen=True)
class RoomKeeperParts:
    app: Scheduling
    queries: PostgresVideoQueries
    rooms: VideoRooms
    clock: Clock
    spec: RoomSpec  # every room's timeouts and capacity (its name is the visit's)
    # The recording policy, a tracked consumer of the log: the event store's settings, the
    # application class bound to this process's keys, its tracking recorder, and where it
    # reports its last error.
    env: dict[str, str] = field(default_factory=dict)
    app_class: type[Scheduling] = Scheduling
    tracking: type[TrackingRecorder] = AnnouncedTracking
    report: Callable[[str, str | None], None] = lambda *_: None


@contextmanager
def room_keeper(settings: Settings, say: Say = print) -> Iterator[RoomKeeperParts]:
    """The room policy and the recording policy: the video plans, the configured provider,
    the application, and what the recording policy's runner needs."""
    video = settings.video
    spec = RoomSpec("", video.empty_timeout, video.departure_timeout, video.max_participants)
    with ExitStack() as stack:
        db = database(settings, say)
        keys = stack.enter_context(personal_data_keys(settings, db.conninfo))
        app = stack.enter_context(closing(build_scheduling(settings, db, keys, pool_size=2)))
        pool = stack.enter_context(connection_pool(db.conninfo, 2))
        rooms = stack.enter_context(video_rooms(settings))
        say(f"video rooms on {rooms.provider}, opened {video.lead} before the start")

        def report(name: str, error: str | None) -> None:
            PostgresProjectionState(pool, name).record_error(error)

        yield RoomKeeperParts(
            app,
            PostgresVideoQueries(pool),
            rooms,
            SystemClock(),
            spec,
            eventstore_env(db, 2),
            keys.bind(Scheduling),
            AnnouncedTracking,
            report,
        )


@dataclass(frozen=True)
class OfferPolicyParts:
    app: Scheduling
    work: PostgresWaitlistWork
    clock: Clock


@contextmanager
def offer_policy(settings: Settings, say: Say = print) -> Iterator[OfferPolicyParts]:
    """The waitlist's offer policy: the projection's work rows and the application."""
    with ExitStack() as stack:
        _, app, pool = worker_parts(settings, say, stack)
        timing = app.policies.waitlist
        tiers = ", ".join(f"{answer} at {lead} ahead" for lead, answer in timing.tiers)
        say(f"waitlist offers: answer within {tiers}; cool-down {timing.cooldown}")
        yield OfferPolicyParts(app, PostgresWaitlistWork(pool), SystemClock())
