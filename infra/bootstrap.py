"""The composition root: finds the database and wires adapters into the applications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg import sql

from commands.application import Policies
from commands.ports import Clock
from commands.scheduling import Scheduling
from infra.devstack.postgres_server import PostgresLocation, conninfo_for, find_or_start_postgres
from infra.postgres.migrations import apply_migrations
from infra.settings import Settings


@dataclass(frozen=True)
class Database:
    location: PostgresLocation
    dbname: str

    @property
    def conninfo(self) -> str:
        return conninfo_for(self.location, self.dbname)


def ensure_database(admin_conninfo: str, name: str) -> bool:
    """Create the database if it is missing; True when it was created."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def locate_database(settings: Settings, progress: Callable[[str], None] = print) -> Database:
    location = find_or_start_postgres(settings.database_url, settings.state_dir, progress=progress)
    if settings.database_url:
        return Database(location, location.dbname)
    if ensure_database(location.conninfo, settings.database_name):
        progress(f"created database {settings.database_name}")
    return Database(location, settings.database_name)


def eventstore_env(db: Database, pool_size: int, *, create_tables: bool = False) -> dict[str, str]:
    """The eventsourcing library's settings. Only `prepare` creates tables: the library's
    table creation (it also replaces a function) is not safe to run from several processes at
    once, so everyone else finds them made."""
    loc = db.location
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": db.dbname,
        "POSTGRES_HOST": loc.host,
        "POSTGRES_PORT": str(loc.port),
        "POSTGRES_USER": loc.user,
        "POSTGRES_PASSWORD": loc.password or "",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "y",
        "CREATE_TABLE": "y" if create_tables else "n",
    }


# Any constant: serialises the event store's table creation across processes.
SCHEMA_LOCK = 0x5107_5EED


def prepare(db: Database) -> list[str]:
    """Schema for the read models (migrations), then the event store's own tables.

    Every process calls this at start. The event store creates its tables (and a composite
    type) on first use, which is not safe when several processes start at once on a fresh
    database, so that first use happens here, one process at a time."""
    applied = apply_migrations(db.conninfo)
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            Scheduling(eventstore_env(db, 1, create_tables=True)).close()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    return applied


def build_scheduling(
    settings: Settings, db: Database, clock: Clock | None = None, pool_size: int | None = None
) -> Scheduling:
    """The command application. Workers pass a small `pool_size` (they do one thing at a
    time); the API uses the configured one."""
    policies = Policies(hold=timedelta(minutes=settings.hold_minutes))
    env = eventstore_env(db, pool_size or settings.pool_size)
    return Scheduling(env, clock=clock, policies=policies)
