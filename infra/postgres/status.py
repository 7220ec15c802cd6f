"""Where each projection, the relay and the sealer (given its log's origin) stand against the
head of the event log, read from PostgreSQL (shared by `slotwise projections status` and the
API's /metrics)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from infra.postgres.database import events_table
from infra.postgres.tracking import read_watermark, tracking_table
from projections.status import PROJECTION_NAMES, LogStatus, Progress


class PostgresStatus:
    def __init__(
        self,
        pool: ConnectionPool[Any],
        log: Scheduling,
        projections: Sequence[str] = PROJECTION_NAMES,
        audit_origin: str | None = None,
        access_origin: str | None = None,
    ) -> None:
        self._pool = pool
        self._log = log
        self._projections = tuple(projections)
        self._audit_origin = audit_origin
        self._access_origin = access_origin
        self._events = sql.Identifier(events_table(log))

    def status(self) -> LogStatus:
        with self._pool.connection() as conn:
            head = self._scalar(conn, sql.SQL("SELECT max(notification_id) FROM {}"), ())
            errors = dict(conn.execute("SELECT projection, last_error FROM projection_status"))
            letters = {
                name: (int(total), int(blocking))
                for name, total, blocking in conn.execute(
                    "SELECT projection, count(*), "
                    "count(*) FILTER (WHERE state IN ('open', 'retry')) "
                    "FROM projection_dead_letters GROUP BY projection"
                )
            }
            positions = [
                (name, "projection", read_watermark(conn, tracking_table(name)))
                for name in self._projections
            ]
            positions += [
                (str(relay), "relay", int(position))
                for relay, position in conn.execute(
                    "SELECT relay, position FROM relay_positions ORDER BY relay"
                )
            ]
            if self._audit_origin is not None:
                sealed = conn.execute(
                    "SELECT position FROM audit_heads WHERE log = %s", (self._audit_origin,)
                ).fetchone()
                positions.append((self._audit_origin, "sealer", int(sealed[0]) if sealed else 0))
            readers = [
                Progress(
                    name=name,
                    kind=kind,
                    position=position,
                    lag_events=self._unapplied(conn, position) if position < head else 0,
                    lag_seconds=self._age_after(position) if position < head else 0.0,
                    last_error=errors.get(name),
                    dead_letters=letters.get(name, (0, 0))[0],
                    open_dead_letters=letters.get(name, (0, 0))[1],
                )
                for name, kind, position in positions
            ]
            if self._access_origin is not None:
                readers.append(self._access_sealer(conn, self._access_origin))
        return LogStatus(head=head, readers=readers)

    def _access_sealer(self, conn: psycopg.Connection[Any], origin: str) -> Progress:
        """The access records' sealer, measured against the access log (its own positions)."""
        sealed = conn.execute("SELECT position FROM audit_heads WHERE log = %s", (origin,))
        row = sealed.fetchone()
        position = int(row[0]) if row else 0
        behind = conn.execute(
            "SELECT count(*), min(recorded_at) FROM audit_access WHERE notification_id > %s",
            (position,),
        ).fetchone()
        count, oldest = (int(behind[0]), behind[1]) if behind else (0, None)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        return Progress(origin, "sealer", position, count, max(age, 0.0), None, 0)

    def _scalar(self, conn: psycopg.Connection[Any], query: sql.SQL, params: Any) -> int:
        row = conn.execute(query.format(self._events), params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _unapplied(self, conn: psycopg.Connection[Any], position: int) -> int:
        query = sql.SQL("SELECT count(*) FROM {} WHERE notification_id > %s")
        return self._scalar(conn, query, (position,))

    def _age_after(self, position: int) -> float:
        notifications = self._log.recorder.select_notifications(start=position + 1, limit=1)
        if not notifications:
            return 0.0
        event = self._log.mapper.to_domain_event(notifications[0])
        stamp: datetime = event.timestamp  # type: ignore[attr-defined]
        return max((datetime.now(UTC) - stamp).total_seconds(), 0.0)
