"""Rebuild a projection from the event store into shadow tables, check it, then swap it in
atomically while the live tables keep serving (or only report how the two differ).

The swap takes ACCESS EXCLUSIVE locks on the live tables with a short lock_timeout (shorter
than PostgreSQL's deadlock_timeout, so a clash with a projection writer makes *this* side back
off), applies the last events to the shadow, renames, and moves the projection's versions and
tracking position, all in one transaction. A writer that was blocked then finds the rebuilt
tables: the direct runner's next position is refused by the tracking row (it restarts from the
rebuilt position), and the Kafka-fed one skips what the versions say is applied."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors, sql

from commands.scheduling import Scheduling
from domain.log import APPLICATION_NAME
from infra.postgres import shadow
from infra.postgres.batched_rows import BatchedChanges
from infra.postgres.database import events_table
from infra.postgres.tracking import notify_position, read_watermark, tracking_table
from projections import analytics, scheduling, video
from projections.changes import Change


@dataclass(frozen=True)
class Spec:
    name: str
    tables: tuple[str, ...]
    changes_for: Callable[[Any], list[Change]]


PROJECTIONS = {
    "scheduling": Spec("scheduling", scheduling.TABLES, scheduling.changes_for),
    "analytics": Spec("analytics", analytics.TABLES, analytics.changes_for),
    # The video visits' plans and rooms (issue 13); the room policy reads the plans.
    "video": Spec("video", video.TABLES, video.changes_for),
}


class RebuildError(RuntimeError):
    """The rebuild could not finish; the live tables are untouched."""


@dataclass(frozen=True)
class Outcome:
    projection: str
    position: int
    events: int
    swapped: bool
    diffs: list[shadow.TableDiff] = field(default_factory=list)


OnProgress = Callable[[int, int], None]  # (position reached, head of the log)


def _no_progress(position: int, head: int) -> None:
    pass


class Rebuild:
    def __init__(
        self,
        conninfo: str,
        log: Scheduling,
        spec: Spec,
        *,
        batch: int = 500,
        close_enough: int = 200,
        lock_timeout_ms: int = 500,
        attempts: int = 20,
        progress: OnProgress = _no_progress,
    ) -> None:
        self._conninfo = conninfo
        self._log = log
        self._spec = spec
        self._batch = batch
        self._close_enough = close_enough
        self._lock_timeout_ms = lock_timeout_ms
        self._attempts = attempts
        self._progress = progress
        self._events_table = sql.Identifier(events_table(log))
        self._tracking_table = tracking_table(spec.name)
        self._tracking = sql.Identifier(self._tracking_table)
        self.events = 0

    def run(self, *, diff: bool = False) -> Outcome:
        """Rebuild into shadows, then swap them in, or with `diff` compare them with the live
        tables and drop them. Leftovers of an interrupted run are dropped first."""
        spec = self._spec
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            shadow.drop_shadows(conn, spec.name, spec.tables)
            shadow.create_shadows(conn, spec.name, spec.tables)
            try:
                return self._diff(conn) if diff else self._rebuild(conn)
            finally:
                # If even this fails (the connection is gone), the next run drops them first.
                with contextlib.suppress(psycopg.Error):
                    shadow.drop_shadows(conn, spec.name, spec.tables)

    def _rebuild(self, conn: psycopg.Connection[Any]) -> Outcome:
        position = self._catch_up(conn, 0, self._log.head_position)
        self._verify(conn, position)
        shadow.analyze(conn, self._spec.tables)
        for attempt in range(1, self._attempts + 1):
            try:
                with conn.transaction():
                    position = self._swap(conn, position)
            except (errors.LockNotAvailable, errors.DeadlockDetected):
                # The live tables were busy; the tail applied in that attempt is rolled back.
                time.sleep(min(0.05 * attempt, 1.0))
                position = self._catch_up(conn, position, self._log.head_position)
                continue
            shadow.drop_old(conn, self._spec.tables)
            return Outcome(self._spec.name, position, self.events, swapped=True)
        msg = (
            f"could not lock the {self._spec.name} tables within {self._attempts} attempts of "
            f"{self._lock_timeout_ms} ms: long queries or transactions hold them. Retry when "
            "the database is quieter; the live tables are untouched"
        )
        raise RebuildError(msg)

    def _swap(self, conn: psycopg.Connection[Any], position: int) -> int:
        spec = self._spec
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(self._lock_timeout_ms))
        conn.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(map(sql.Identifier, spec.tables))
            )
        )
        # Live writers are blocked from here on: the head now is where they will resume.
        head = self._head(conn)
        touched = self._apply_range(conn, position, head)
        self._verify(conn, head, touched)
        shadow.swap_in(conn, spec.tables)
        shadow.replace_versions(conn, spec.name)
        self._set_tracking(conn, head)
        return head

    def _diff(self, conn: psycopg.Connection[Any]) -> Outcome:
        position = self._catch_up(conn, 0, lambda: read_watermark(conn, self._tracking_table))
        self._verify(conn, position)
        # One snapshot for the watermark, the last events and both sides of the comparison.
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            watermark = read_watermark(conn, self._tracking_table)
            if watermark > position:
                self._apply_range(conn, position, watermark)
                position = watermark
            diffs = shadow.diff(conn, self._spec.tables)
        return Outcome(self._spec.name, position, self.events, swapped=False, diffs=diffs)

    def _catch_up(
        self, conn: psycopg.Connection[Any], position: int, target: Callable[[], int]
    ) -> int:
        """Build batch by batch (a transaction each) until within `close_enough` of target."""
        head = target()
        while True:
            while position < head:
                with conn.transaction():
                    reached = self._apply_batch(conn, position, head, set())
                if reached == position:
                    break  # only gaps left below head
                position = reached
                self._progress(position, head)
            head = target()
            if head - position <= self._close_enough:
                self._progress(position, max(head, position))
                return position

    def _apply_range(self, conn: psycopg.Connection[Any], position: int, stop: int) -> set[UUID]:
        touched: set[UUID] = set()
        while position < stop:
            reached = self._apply_batch(conn, position, stop, touched)
            if reached == position:
                break
            position = reached
        return touched

    def _apply_batch(
        self, conn: psycopg.Connection[Any], position: int, stop: int, touched: set[UUID]
    ) -> int:
        """Apply the events after `position` up to `stop` (one batch); the position reached."""
        notifications = self._log.recorder.select_notifications(
            start=position + 1, limit=self._batch, stop=stop
        )
        if not notifications:
            return position
        versions: dict[UUID, int] = {}
        at = f"positions {notifications[0].id} to {notifications[-1].id}"
        try:
            with conn.pipeline(), conn.cursor() as cur:
                # Upserts in bulk: a multi-row statement per table and shape (batched_rows).
                changes = BatchedChanges(cur, shadow.shadow_of)
                for notification in notifications:
                    at = f"position {notification.id} ({notification.topic})"
                    event = self._log.mapper.to_domain_event(notification)
                    changes.add(self._spec.changes_for(event))
                    versions[event.originator_id] = max(
                        event.originator_version, versions.get(event.originator_id, 0)
                    )
                # Statements run at the pipeline's end: a database error names the whole batch.
                at = f"positions {notifications[0].id} to {notifications[-1].id}"
                changes.flush()
                shadow.record_versions(cur, self._spec.name, versions)
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            raise
        except Exception as error:
            msg = (
                f"the {self._spec.name} projection fails on the event(s) at {at}: {error}. "
                "Fix the handler or the schema, then rerun; the live tables are untouched"
            )
            raise RebuildError(msg) from error
        touched.update(versions)
        self.events += len(notifications)
        return int(notifications[-1].id)

    def _verify(
        self, conn: psycopg.Connection[Any], position: int, only: set[UUID] | None = None
    ) -> None:
        """Every aggregate's version in the shadow equals its last stored version up to
        `position` (for the `only` aggregates, when given)."""
        expected = sql.SQL(
            "SELECT originator_id, max(originator_version) FROM {} "
            "WHERE notification_id <= %(position)s {} GROUP BY originator_id"
        ).format(
            self._events_table,
            sql.SQL("AND originator_id = ANY(%(only)s)" if only is not None else ""),
        )
        built = sql.SQL("SELECT aggregate_id, version::bigint FROM {} {}").format(
            sql.Identifier(shadow.shadow_versions_of(self._spec.name)),
            sql.SQL("WHERE aggregate_id = ANY(%(only)s)" if only is not None else ""),
        )
        query = sql.SQL(
            "SELECT count(*) FROM (({0} EXCEPT {1}) UNION ALL ({1} EXCEPT {0})) x"
        ).format(expected, built)
        row = conn.execute(query, {"position": position, "only": list(only or ())}).fetchone()
        if row and row[0]:
            msg = (
                f"the rebuilt {self._spec.name} shadow disagrees with the event store on "
                f"{row[0]} aggregate version(s) at position {position}; nothing was swapped. "
                "Rerun the rebuild; if it happens again, report it"
            )
            raise RebuildError(msg)

    def _head(self, conn: psycopg.Connection[Any]) -> int:
        query = sql.SQL("SELECT max(notification_id) FROM {}").format(self._events_table)
        row = conn.execute(query).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _set_tracking(self, conn: psycopg.Connection[Any], position: int) -> None:
        # Same shape as eventsourcing's single-row tracking table, with its migration marker,
        # for a projection that has never run yet.
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (application_name text PRIMARY KEY, "
                "notification_id bigint)"
            ).format(self._tracking)
        )
        upsert = sql.SQL(
            "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (application_name) "
            "DO UPDATE SET notification_id = EXCLUDED.notification_id"
        ).format(self._tracking)
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES ('__migration__', 1) ON CONFLICT DO NOTHING").format(
                self._tracking
            )
        )
        conn.execute(upsert, (APPLICATION_NAME, position))
        notify_position(conn, self._spec.name, position)


def rebuild(
    conninfo: str,
    log: Scheduling,
    projection: str,
    *,
    diff: bool = False,
    progress: OnProgress = _no_progress,
    **options: Any,
) -> Outcome:
    """Rebuild `projection` (a key of PROJECTIONS); see Rebuild."""
    return Rebuild(conninfo, log, PROJECTIONS[projection], progress=progress, **options).run(
        diff=diff
    )
