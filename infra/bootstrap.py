"""The composition root: one builder per process. Each builder finds the database, wires the
adapters the settings name into the applications, and closes them when its `with` ends. Entry
points (the CLI, the API's lifespan) call a builder and hand what it yields to the process's
loop; nothing else reaches into infra/."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from commands.application import Policies
from commands.ports import Clock, SystemClock
from commands.scheduling import Scheduling
from infra.audit import wiring as audit
from infra.crypto.wiring import PersonalDataKeys, kek_rotation, personal_data_keys
from infra.devstack.kafka_broker import find_or_start_kafka
from infra.devstack.postgres_server import find_or_start_postgres
from infra.kafka import transient as kafka_transient
from infra.kafka.deliveries import KafkaDeliveries
from infra.kafka.publisher import KafkaPublisher
from infra.kafka.topics import ensure_topics
from infra.postgres import transient as postgres_transient
from infra.postgres.database import (
    Database,
    ensure_database,
    events_table,
    eventstore_env,
    prepare,
)
from infra.postgres.dead_letters import PostgresDeadLetters
from infra.postgres.pool import connection_pool
from infra.postgres.positions import LogPositions
from infra.postgres.projection_state import PostgresProjectionState
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rebuild import PROJECTIONS as ROW_PROJECTIONS
from infra.postgres.rebuild import Outcome, rebuild
from infra.postgres.relay_store import LogListener, PostgresPositions
from infra.postgres.rows import PostgresRowView
from infra.postgres.search.backend import PostgresSearch
from infra.postgres.search.writes import PostgresSearchView
from infra.postgres.status import PostgresStatus
from infra.settings import Settings, SettingsError, redacted
from projections.analytics_queries import AnalyticsQueries
from projections.changes import Change, RowView
from projections.delivery import DeadLetters, ProjectionState
from projections.integration import ALL_TOPICS
from projections.queries import SchedulingQueries
from projections.search import SearchBackend
from projections.search_projection import SearchProjection, SearchSink
from projections.status import PROJECTION_NAMES, LogStatus, StatusQueries

Say = Callable[[str], None]
# Every projection with a watermark, search included (it is not rebuilt by `rebuild`).
TRACKED = (*PROJECTION_NAMES, SearchProjection.name)


class SetupError(RuntimeError):
    """The process cannot start as things are; the message says what to do."""


def locate_database(settings: Settings, say: Say = print) -> Database:
    location = find_or_start_postgres(settings.database_url, settings.state_dir, progress=say)
    if settings.database_url:
        return Database(location, location.dbname)
    if ensure_database(location.conninfo, settings.database_name):
        say(f"created database {settings.database_name}")
    return Database(location, settings.database_name)


def database(settings: Settings, say: Say = print) -> Database:
    """The database, migrated and with the event store's tables (every process starts here)."""
    db = locate_database(settings, say)
    prepare(db)
    return db


def migrate(settings: Settings, say: Say = print) -> tuple[str, list[str]]:
    """Apply pending migrations; the database's name and the migrations applied."""
    db = locate_database(settings, say)
    return db.dbname, prepare(db)


def build_scheduling(
    settings: Settings,
    db: Database,
    keys: PersonalDataKeys,
    clock: Clock | None = None,
    pool_size: int | None = None,
) -> Scheduling:
    """The command application, its personal data encrypted under `keys`. Workers pass a small
    `pool_size` (they do one thing at a time); the API uses the configured one."""
    policies = Policies(hold=timedelta(minutes=settings.hold_minutes))
    env = eventstore_env(db, pool_size or settings.pool_size)
    return keys.bind(Scheduling)(env, clock=clock, policies=policies)


def _keyed(
    settings: Settings, db: Database, stack: ExitStack, pool_size: int | None = None
) -> Scheduling:
    """The application with this process's keys (checked against the KEK), closed with `stack`."""
    keys = stack.enter_context(personal_data_keys(settings, db.conninfo))
    return stack.enter_context(closing(build_scheduling(settings, db, keys, pool_size=pool_size)))


def _worker(
    settings: Settings, say: Say, stack: ExitStack, connections: int = 2
) -> tuple[Database, Scheduling, ConnectionPool[Any]]:
    """A worker's database, its application and a small pool, closed with `stack`."""
    db = database(settings, say)
    app = _keyed(settings, db, stack, pool_size=2)
    pool = stack.enter_context(connection_pool(db.conninfo, connections))
    return db, app, pool


def _opensearch(settings: Settings) -> Any:
    """The OpenSearch module, imported only when the settings choose it."""
    if settings.search_backend != "opensearch" or not settings.opensearch_url:
        msg = "search rebuild swaps OpenSearch indices; set SEARCH_BACKEND=opensearch and "
        raise SettingsError(msg + "OPENSEARCH_URL (PostgreSQL search tables need no rebuild)")
    try:
        return importlib.import_module("infra.opensearch.index")
    except ModuleNotFoundError as missing:
        msg = f"SEARCH_BACKEND=opensearch, but the OpenSearch backend cannot load: {missing}"
        raise SettingsError(msg) from None


def _kafka(settings: Settings) -> str:
    if not settings.kafka_bootstrap:
        raise SettingsError("set KAFKA_BOOTSTRAP_SERVERS (make run starts a local broker)")
    return settings.kafka_bootstrap


@dataclass(frozen=True)
class ApiAdapters:
    scheduling: Scheduling
    queries: SchedulingQueries
    analytics: AnalyticsQueries
    search: SearchBackend
    positions: LogPositions  # enter it (async with) in the API's event loop
    status: StatusQueries
    clock: Clock


@contextmanager
def api(settings: Settings, say: Say = print) -> Iterator[ApiAdapters]:
    """What the API's handlers use, on a pool of the configured size."""
    db = database(settings, say)
    with ExitStack() as stack:
        app = _keyed(settings, db, stack)
        pool = stack.enter_context(connection_pool(db.conninfo, settings.pool_size))
        search: SearchBackend = PostgresSearch(pool)
        if settings.search_backend == "opensearch":
            search = _opensearch(settings).OpenSearchBackend.from_url(settings.opensearch_url)
            stack.callback(search.close)  # type: ignore[attr-defined]
        yield ApiAdapters(
            scheduling=app,
            queries=PostgresSchedulingQueries(pool),
            analytics=PostgresAnalyticsQueries(pool),
            search=search,
            positions=LogPositions(
                db.conninfo, events_table(app), TRACKED, max_waiters=settings.max_read_waiters
            ),
            status=PostgresStatus(pool, app, TRACKED),
            clock=SystemClock(),
        )


@dataclass(frozen=True)
class Relay:
    app: Scheduling
    publisher: KafkaPublisher
    positions: PostgresPositions
    wait_for_new_events: Callable[[float], bool]


@contextmanager
def relay(settings: Settings, say: Say = print) -> Iterator[Relay]:
    """The event log, a Kafka producer, the relay's position and a LISTEN wake-up."""
    bootstrap = _kafka(settings)
    with ExitStack() as stack:
        db, app, pool = _worker(settings, say, stack)
        channel: str = app.recorder.channel_name  # type: ignore[attr-defined]
        listener = stack.enter_context(closing(LogListener(db.conninfo, channel)))
        say(f"relaying to {bootstrap}")
        yield Relay(
            app, KafkaPublisher(bootstrap, ALL_TOPICS), PostgresPositions(pool), listener.wait
        )


def transient(error: BaseException) -> bool:
    """Whether `error` is a database or broker outage, to be waited out rather than fail on."""
    return postgres_transient.is_transient(error) or kafka_transient.is_transient(error)


# The error types the API answers with 503 when `transient` says so.
TRANSIENT_ERROR_TYPES = postgres_transient.ERROR_TYPES


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
    bootstrap = _kafka(settings)
    if name not in ROW_PROJECTIONS:
        raise SettingsError(f"{name} reads the event store itself: use --source log")
    with ExitStack() as stack:
        _, app, pool = _worker(settings, say, stack, connections=4)
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
            backend = _opensearch(settings).OpenSearchBackend.from_url(settings.opensearch_url)
            backend.ensure_indices()
            sink = importlib.import_module("infra.opensearch.sink")
            search = sink.opensearch_search_view(backend)
            say(f"search documents go to OpenSearch at {redacted(str(settings.opensearch_url))}")
    rows = PostgresRowView if set(names) & set(PROJECTION_NAMES) else None
    with (
        personal_data_keys(settings, db.conninfo) as keys,
        connection_pool(db.conninfo, max_size=1) as pool,
    ):

        def report(name: str, error: str | None) -> None:
            PostgresProjectionState(pool, name).record_error(error)

        yield LogProjections(eventstore_env(db, 2), keys.bind(Scheduling), rows, search, report)


@contextmanager
def commands(settings: Settings, say: Say = print) -> Iterator[Scheduling]:
    """The command application alone, for one-off commands (`slotwise patients erase`)."""
    db = database(settings, say)
    with ExitStack() as stack:
        yield _keyed(settings, db, stack, pool_size=1)


@dataclass(frozen=True)
class HoldSweeper:
    app: Scheduling
    queries: SchedulingQueries
    clock: Clock


@contextmanager
def hold_sweeper(settings: Settings, say: Say = print) -> Iterator[HoldSweeper]:
    with ExitStack() as stack:
        _, app, pool = _worker(settings, say, stack)
        yield HoldSweeper(app, PostgresSchedulingQueries(pool), SystemClock())


@dataclass(frozen=True)
class SearchRebuild:
    app: Scheduling
    index: Any  # OpenSearchBackend, imported only when chosen
    clock: Clock


@contextmanager
def search_rebuild(settings: Settings, say: Say = print) -> Iterator[SearchRebuild]:
    """The event log and fresh OpenSearch indices (PostgreSQL search needs no rebuild)."""
    opensearch = _opensearch(settings)
    db = database(settings, say)
    with ExitStack() as stack:
        app = _keyed(settings, db, stack, pool_size=2)
        yield SearchRebuild(
            app, opensearch.OpenSearchBackend.from_url(settings.opensearch_url), SystemClock()
        )


Rebuilder = Callable[..., Outcome]  # (projection, *, diff, progress, batch) -> Outcome


@contextmanager
def projection_rebuild(settings: Settings, say: Say = print) -> Iterator[Rebuilder]:
    """`rebuild` bound to the database and its event log."""
    db = database(settings, say)
    with ExitStack() as stack:
        log = _keyed(settings, db, stack, pool_size=2)

        def run(projection: str, **options: Any) -> Outcome:
            return rebuild(db.conninfo, log, projection, **options)

        yield run


@contextmanager
def log_status(settings: Settings, say: Say = print) -> Iterator[Callable[[], LogStatus]]:
    """Where each projection and the relay stand (the database is not migrated here)."""
    db = locate_database(settings, say)
    with ExitStack() as stack:
        log = _keyed(settings, db, stack, pool_size=1)
        pool = stack.enter_context(connection_pool(db.conninfo, 1))
        status = PostgresStatus(pool, log, TRACKED)

        def read() -> LogStatus:
            try:
                return status.status()
            except psycopg.errors.UndefinedTable as error:
                msg = f"{error.diag.message_primary}; run `slotwise db migrate` first"
                raise SetupError(msg) from None

        yield read


@contextmanager
def dead_letters(settings: Settings, say: Say = print) -> Iterator[DeadLetters]:
    """The projections' dead letters, for an operator to inspect, skip or retry."""
    with connection_pool(database(settings, say).conninfo, max_size=1) as pool:
        yield PostgresDeadLetters(pool)


@contextmanager
def sealer(settings: Settings, say: Say = print) -> Iterator[audit.Sealer]:
    """The sealer's store, signing key, checkpoint directory and LISTEN wake-up."""
    with ExitStack() as stack:
        db, app, pool = _worker(settings, say, stack)
        channel: str = app.recorder.channel_name  # type: ignore[attr-defined]
        listener = stack.enter_context(closing(LogListener(db.conninfo, channel)))
        yield audit.sealer(settings, app, pool, listener.wait)


@contextmanager
def audit_log(settings: Settings, say: Say = print) -> Iterator[audit.AuditLog]:
    """The sealed log, its checkpoints and their directory (`audit export`, `verify --live`)."""
    with ExitStack() as stack:
        _, app, pool = _worker(settings, say, stack)
        yield audit.audit_log(settings, app, pool)


@contextmanager
def local_kafka(settings: Settings, say: Say = print) -> Iterator[str]:
    """KAFKA_BOOTSTRAP_SERVERS, or a local Tansu broker stopped when the `with` ends."""
    broker = find_or_start_kafka(settings.kafka_bootstrap, settings.state_dir)
    try:
        say(f"Kafka at {broker.bootstrap}" + (" (local Tansu)" if broker.embedded else ""))
        yield broker.bootstrap
    finally:
        broker.stop()


@contextmanager
def key_rotation(settings: Settings, say: Say = print) -> Iterator[Callable[[], int]]:
    """Re-wraps the data keys under the current KEK (`slotwise keys rotate`)."""
    with kek_rotation(settings, database(settings, say).conninfo) as rotate:
        yield rotate
