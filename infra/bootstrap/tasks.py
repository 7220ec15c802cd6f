"""One-off tasks' builders: console commands, search and projection rebuilds, status, dead
letters, the audit log's export and verification, and KEK rotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from commands.ports import Clock, SystemClock
from commands.scheduling import Scheduling
from infra.audit import wiring as audit
from infra.bootstrap.base import (
    TRACKED,
    Say,
    SetupError,
    database,
    keyed,
    locate_database,
    opensearch_module,
    worker_parts,
)
from infra.crypto.wiring import kek_rotation
from infra.postgres.dead_letters import PostgresDeadLetters
from infra.postgres.pool import connection_pool
from infra.postgres.rebuild import Outcome, rebuild
from infra.postgres.status import PostgresStatus
from infra.settings import Settings
from projections.delivery import DeadLetters
from projections.status import LogStatus


@contextmanager
def commands(settings: Settings, say: Say = print) -> Iterator[Scheduling]:
    """The command application alone, for one-off commands (`slotwise patients erase`)."""
    db = database(settings, say)
    with ExitStack() as stack:
        yield keyed(settings, db, stack, pool_size=1)


@dataclass(frozen=True)
class SearchRebuild:
    app: Scheduling
    index: Any  # OpenSearchBackend, imported only when chosen
    clock: Clock


@contextmanager
def search_rebuild(settings: Settings, say: Say = print) -> Iterator[SearchRebuild]:
    """The event log and fresh OpenSearch indices (PostgreSQL search needs no rebuild)."""
    opensearch = opensearch_module(settings)
    db = database(settings, say)
    with ExitStack() as stack:
        app = keyed(settings, db, stack, pool_size=2)
        yield SearchRebuild(
            app, opensearch.OpenSearchBackend.from_url(settings.opensearch_url), SystemClock()
        )


Rebuilder = Callable[..., Outcome]  # (projection, *, diff, progress, batch) -> Outcome


@contextmanager
def projection_rebuild(settings: Settings, say: Say = print) -> Iterator[Rebuilder]:
    """`rebuild` bound to the database and its event log."""
    db = database(settings, say)
    with ExitStack() as stack:
        log = keyed(settings, db, stack, pool_size=2)

        def run(projection: str, **options: Any) -> Outcome:
            return rebuild(db.conninfo, log, projection, **options)

        yield run


@contextmanager
def log_status(settings: Settings, say: Say = print) -> Iterator[Callable[[], LogStatus]]:
    """Where each projection and the relay stand (the database is not migrated here)."""
    db = locate_database(settings, say)
    with ExitStack() as stack:
        log = keyed(settings, db, stack, pool_size=1)
        pool = stack.enter_context(connection_pool(db.conninfo, 1))
        status = PostgresStatus(
            pool, log, TRACKED, settings.audit_origin, settings.audit_access_origin
        )

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
def audit_log(
    settings: Settings, say: Say = print, log: str = "events"
) -> Iterator[audit.AuditLog]:
    """A sealed log ("events" or "access"), its checkpoints and their directory (`audit
    export`, `verify --live`)."""
    with ExitStack() as stack:
        _, app, pool = worker_parts(settings, say, stack)
        yield audit.audit_log(settings, app, pool, log)


@contextmanager
def key_rotation(settings: Settings, say: Say = print) -> Iterator[Callable[[], int]]:
    """Re-wraps the data keys under the current KEK (`slotwise keys rotate`)."""
    with kek_rotation(settings, database(settings, say).conninfo) as rotate:
        yield rotate
