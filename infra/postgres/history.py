"""As-of views on PostgreSQL (projections/history.py). The events of the aggregates a view needs,
up to a position, are decoded by the application's own mapper and fed to the scheduling
projection's handlers; their row changes go into temporary tables that shadow the read model's
(`pg_temp` comes first in the search path) in a transaction that is rolled back, and the live
read model's own queries read them there. Nothing is written anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from domain.calendar import ProviderCalendar
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rows import bind_params, statement
from projections.history import AsOf
from projections.queries import AppointmentFilter, AppointmentView, Page, ProviderSchedule
from projections.scheduling import SchedulingProjection


class _OneConnection:
    """Hands out the same connection, so the read model's queries run in our transaction."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        yield self._conn


class PostgresHistory:
    def __init__(
        self, pool: ConnectionPool[Any], app: Scheduling, events_table: str, origin: str
    ) -> None:
        self._pool = pool
        self._app = app
        self._events = sql.Identifier(events_table)
        self._origin = origin

    def position_at(self, when: datetime) -> int:
        with self._pool.connection() as conn:
            sealed = conn.execute(
                "SELECT max(position) FROM audit_events WHERE recorded_at <= %s", (when,)
            ).fetchone()
            head = conn.execute(
                "SELECT coalesce(max(position), 0) FROM audit_seals WHERE log = %s",
                (self._origin,),
            ).fetchone()
            # Events not sealed (so not indexed) yet: few, read from their stored timestamps.
            tail = conn.execute(
                sql.SQL(
                    "SELECT max(notification_id) FROM {} WHERE notification_id > %s AND "
                    "(convert_from(state, 'UTF8')::jsonb #>> '{{timestamp,_data_}}')::timestamptz"
                    " <= %s"
                ).format(self._events),
                (int(head[0]) if head else 0, when),
            ).fetchone()
        return max(int(r[0] or 0) for r in (sealed, tail) if r is not None)

    def label(self, position: int) -> AsOf:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT min(c.size) FROM audit_checkpoints c WHERE c.log = %(log)s AND c.size > "
                "(SELECT max(leaf_index) FROM audit_seals WHERE log = %(log)s "
                "AND position <= %(position)s)",
                {"log": self._origin, "position": position},
            ).fetchone()
        size = row[0] if row else None
        return AsOf(position=position, checkpoint_size=None if size is None else int(size))

    def appointment(self, appointment_id: UUID, position: int) -> AppointmentView | None:
        with self._replayed([appointment_id], position) as queries:
            return queries.appointment(appointment_id)

    def schedule(
        self, provider_id: UUID, first_day: date, last_day: date, position: int, now: datetime
    ) -> ProviderSchedule | None:
        # The UTC days the provider's local days can touch (zones are within ±14 h of UTC).
        days = (last_day - first_day).days + 3
        calendars = [
            ProviderCalendar.create_id(provider_id, first_day + timedelta(days=n - 1))
            for n in range(days)
        ]
        with self._pool.connection() as conn:
            slots = self._mentioned(conn, calendars, position, "slot_id")
            appointments = self._mentioned(conn, slots, position, "appointment_id")
        aggregates = [provider_id, *slots, *appointments]
        with self._replayed(aggregates, position) as queries:
            return queries.schedule(provider_id, first_day, last_day, now)

    def agenda(
        self, wanted: AppointmentFilter, position: int, now: datetime
    ) -> Page[AppointmentView]:
        patient = wanted.patient_id
        with self._pool.connection() as conn:
            # The patient's appointments: from the sealer's index, and among events not sealed
            # yet, those that schedule one for them.
            indexed = conn.execute(
                "SELECT aggregate_id FROM audit_subjects WHERE patient_id = %s", (patient,)
            ).fetchall()
            tail = conn.execute(
                sql.SQL(
                    "SELECT DISTINCT originator_id FROM {} WHERE notification_id > (SELECT "
                    "coalesce(max(position), 0) FROM audit_seals WHERE log = %s) AND "
                    "notification_id <= %s AND originator_version = 1 AND "
                    "convert_from(state, 'UTF8')::jsonb #>> '{{patient_id,_data_}}' = %s"
                ).format(self._events),
                (self._origin, position, patient.hex if patient else ""),
            ).fetchall()
        aggregates = [r[0] for r in indexed + tail]
        with self._replayed(aggregates, position) as queries:
            return queries.appointments(wanted, now)

    def _mentioned(
        self, conn: psycopg.Connection[Any], ids: list[UUID], position: int, field: str
    ) -> list[UUID]:
        """The ids the events of `ids` up to `position` name in `field`."""
        rows = conn.execute(
            sql.SQL(
                "SELECT DISTINCT (convert_from(state, 'UTF8')::jsonb #>> %s)::uuid FROM {} "
                "WHERE originator_id = ANY(%s) AND notification_id <= %s AND "
                "convert_from(state, 'UTF8')::jsonb #>> %s IS NOT NULL"
            ).format(self._events),
            ([field, "_data_"], ids, position, [field, "_data_"]),
        ).fetchall()
        return [r[0] for r in rows]

    @contextmanager
    def _replayed(
        self, aggregates: list[UUID], position: int
    ) -> Iterator[PostgresSchedulingQueries]:
        with (
            self._pool.connection() as conn,
            conn.transaction(force_rollback=True),
            conn.cursor() as cur,
        ):
            rows = cur.execute(
                sql.SQL(
                    "SELECT originator_id, originator_version, topic, state FROM {} "
                    "WHERE originator_id = ANY(%s) AND notification_id <= %s "
                    "ORDER BY notification_id"
                ).format(self._events),
                (aggregates, position),
            ).fetchall()
            for table in _SHADOWED:
                cur.execute(
                    sql.SQL(
                        "CREATE TEMP TABLE {} (LIKE public.{} INCLUDING ALL) ON COMMIT DROP"
                    ).format(sql.Identifier(table), sql.Identifier(table))
                )
            for row in rows:
                stored = StoredEvent(row[0], int(row[1]), str(row[2]), bytes(row[3]))
                event = self._app.mapper.to_domain_event(stored)
                for change in SchedulingProjection.handlers(event):
                    cur.execute(statement(change), bind_params(change))
            yield PostgresSchedulingQueries(_OneConnection(conn))  # type: ignore[arg-type]


# Every table the scheduling projection writes and its queries read, all shadowed (empty ones
# too) so that nothing of the live read model shows through.
_SHADOWED = ("rm_providers", "rm_patients", "rm_slots", "rm_slot_seats", "rm_appointments")
