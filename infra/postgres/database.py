"""The database the event store and the read models share: its schema (migrations, then the
event store's own tables) and the eventsourcing library's settings for it."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from commands.scheduling import Scheduling
from infra.postgres.eventstore import FACTORY_TOPIC
from infra.postgres.migrations import apply_migrations
from infra.postgres.server import PostgresLocation, conninfo_for

# Any constant: serialises the event store's table creation across processes.
SCHEMA_LOCK = 0x5107_5EED


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


def eventstore_env(db: Database, pool_size: int, *, create_tables: bool = False) -> dict[str, str]:
    """The eventsourcing library's settings. Only `prepare` creates tables: the library's
    table creation (it also replaces a function) is not safe to run from several processes at
    once, so everyone else finds them made."""
    loc = db.location
    return {
        # eventsourcing's PostgreSQL store, checking connections on error instead of pinging
        # each one as it is checked out, with batched aggregate reads (infra/postgres/eventstore).
        "PERSISTENCE_MODULE": FACTORY_TOPIC,
        "POSTGRES_DBNAME": db.dbname,
        "POSTGRES_HOST": loc.host,
        "POSTGRES_PORT": str(loc.port),
        "POSTGRES_USER": loc.user,
        "POSTGRES_PASSWORD": loc.password or "",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "n",
        "CREATE_TABLE": "y" if create_tables else "n",
    }


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


def events_table(log: Scheduling) -> str:
    """The event store's table of stored events (the log that rebuild and status read)."""
    name = getattr(log.recorder, "events_table_name", None)
    if not isinstance(name, str):
        raise TypeError("the event store is not PostgreSQL: no events table to read")
    return name
