"""What every builder shares: finding (or starting) the database, migrations, the keyed
application, a worker's small pool, the transient-error rule, and the local Kafka broker."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import timedelta
from typing import Any

from psycopg_pool import ConnectionPool

from commands.application import Policies
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.video_visit import VideoPolicy
from infra.crypto.wiring import PersonalDataKeys, personal_data_keys
from infra.devstack.kafka_broker import find_or_start_kafka
from infra.devstack.postgres_server import find_or_start_postgres
from infra.kafka import transient as kafka_transient
from infra.postgres import transient as postgres_transient
from infra.postgres.database import (
    Database,
    ensure_database,
    eventstore_env,
    prepare,
)
from infra.postgres.pool import connection_pool
from infra.settings import Settings, SettingsError
from projections.notifications.policy import NAME as REMINDER_POLICY
from projections.search_projection import SearchProjection
from projections.status import PROJECTION_NAMES
from projections.video import VideoProjection
from projections.waitlist import WaitlistProjection

Say = Callable[[str], None]
# Every projection with a watermark, search included (it is not rebuilt by `rebuild`).
TRACKED: tuple[str, ...] = (*PROJECTION_NAMES, SearchProjection.name, VideoProjection.name)
TRACKED += (WaitlistProjection.name,)
TRACKED += (REMINDER_POLICY,)


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
    video = settings.video
    policies = Policies(
        hold=timedelta(minutes=settings.hold_minutes),
        video=VideoPolicy(video.lead, video.join_grace, video.token_lifetime),
        waitlist=settings.waitlist,
    )
    env = eventstore_env(db, pool_size or settings.pool_size)
    return keys.bind(Scheduling)(env, clock=clock, policies=policies)


def keyed(
    settings: Settings, db: Database, stack: ExitStack, pool_size: int | None = None
) -> Scheduling:
    """The application with this process's keys (checked against the KEK), closed with `stack`."""
    keys = stack.enter_context(personal_data_keys(settings, db.conninfo))
    return stack.enter_context(closing(build_scheduling(settings, db, keys, pool_size=pool_size)))


def worker_parts(
    settings: Settings, say: Say, stack: ExitStack, connections: int = 2
) -> tuple[Database, Scheduling, ConnectionPool[Any]]:
    """A worker's database, its application and a small pool, closed with `stack`."""
    db = database(settings, say)
    app = keyed(settings, db, stack, pool_size=2)
    pool = stack.enter_context(connection_pool(db.conninfo, connections))
    return db, app, pool


def opensearch_module(settings: Settings) -> Any:
    """The OpenSearch module, imported only when the settings choose it."""
    if settings.search_backend != "opensearch" or not settings.opensearch_url:
        msg = "search rebuild swaps OpenSearch indices; set SEARCH_BACKEND=opensearch and "
        raise SettingsError(msg + "OPENSEARCH_URL (PostgreSQL search tables need no rebuild)")
    try:
        return importlib.import_module("infra.opensearch.index")
    except ModuleNotFoundError as missing:
        msg = f"SEARCH_BACKEND=opensearch, but the OpenSearch backend cannot load: {missing}"
        raise SettingsError(msg) from None


def kafka_servers(settings: Settings) -> str:
    if not settings.kafka_bootstrap:
        raise SettingsError("set KAFKA_BOOTSTRAP_SERVERS (make run starts a local broker)")
    return settings.kafka_bootstrap


def transient(error: BaseException) -> bool:
    """Whether `error` is a database or broker outage, to be waited out rather than fail on."""
    return postgres_transient.is_transient(error) or kafka_transient.is_transient(error)


# The error types the API answers with 503 when `transient` says so.
TRANSIENT_ERROR_TYPES = postgres_transient.ERROR_TYPES


@contextmanager
def local_kafka(settings: Settings, say: Say = print) -> Iterator[str]:
    """KAFKA_BOOTSTRAP_SERVERS, or a local Tansu broker stopped when the `with` ends."""
    broker = find_or_start_kafka(settings.kafka_bootstrap, settings.state_dir)
    try:
        say(f"Kafka at {broker.bootstrap}" + (" (local Tansu)" if broker.embedded else ""))
        yield broker.bootstrap
    finally:
        broker.stop()
