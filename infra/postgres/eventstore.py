"""The event store's PostgreSQL persistence: eventsourcing's, with two changes measured in
`make bench` (issue 16).

- No ping on every pool checkout (`POSTGRES_PRE_PING`, about a quarter of a booking's time):
  connections are checked on error instead. When a statement fails for want of a connection
  (the server restarted, a connection was cut), every idle connection in the pool is pinged at
  once and the dead ones replaced, then the error goes up to the recorder's own retry
  (`InterfaceError`/`OperationalError`, 10 attempts 0.2 s apart), which finds live connections.
  A broken connection is also dropped by psycopg_pool when it is returned.
- `select_events_of`: the events of several aggregates in one statement, so that a command
  loads every aggregate it names in one round trip (commands/prefetch.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import Environment, EnvType, retry
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

# Names the factory in the eventsourcing environment (PERSISTENCE_MODULE).
FACTORY_TOPIC = "infra.postgres.eventstore:EventStoreFactory"


class CheckOnErrorDatastore(PostgresDatastore):
    """A datastore whose pool does not ping on checkout, and checks its idle connections
    when one fails."""

    @contextmanager
    def get_connection(self) -> Iterator[Connection[DictRow]]:
        try:
            with super().get_connection() as conn:
                yield conn
        except (InterfaceError, OperationalError):
            # A connection failed: the others idle in the pool were likely cut at the same
            # time (a server restart). Check them now, so the retry gets a live one.
            with contextlib.suppress(Exception):
                self.pool.check()
            raise


class ManyAggregatesRecorder(PostgresApplicationRecorder):
    """The application recorder, plus the events of many aggregates in one statement."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.select_many_statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(datastore.schema), Identifier(events_table_name))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_of(self, originator_ids: Sequence[UUID]) -> Sequence[StoredEvent]:
        """Every stored event of these aggregates, ordered by aggregate then version."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_many_statement, (list(originator_ids),), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]


class EventStoreFactory(PostgresFactory):
    application_recorder_class = ManyAggregatesRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        # The library builds its datastore itself; this subclass adds behaviour, not state.
        self.datastore.__class__ = CheckOnErrorDatastore
        if self.datastore.pre_ping:
            raise ValueError("POSTGRES_PRE_PING must be off: connections are checked on error")
