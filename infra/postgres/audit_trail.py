"""The audit queries (projections/audit/trail.py) on PostgreSQL: the sealer's index of the event
log (migration 0011) and the access records (0010), each joined to its seals and to the first
signed checkpoint covering it. Access records are answered from their sealed bytes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import sql
from psycopg_pool import ConnectionPool

from infra.postgres.audit_anomalies import anomaly_report
from infra.postgres.audit_effects import FOLLOWING, fields_of, stored_states
from infra.postgres.tracking import read_watermark, tracking_table
from projections.audit.access import AccessRecord
from projections.audit.effects import EFFECT_SOURCES, EffectSource, Following
from projections.audit.trail import (
    AccessEntry,
    AccessQuery,
    AnomalyReport,
    AuditedEvent,
    EventQuery,
    Explanation,
    Order,
    ProjectionApplied,
    Sealed,
    Thresholds,
    TrailEntry,
)
from projections.queries import Page

# A seal's leaf index and hashes, and the first signed checkpoint covering it. Queries are put
# together from the fixed fragments in this module only; every value is a parameter.
_EVENT = (
    "SELECT e.position, e.aggregate_id, e.version, e.topic, e.recorded_at, e.actor_id, "
    "e.actor_role, e.command, e.correlation_id, e.causation_id, e.idempotency_key, "
    "sub.patient_id, s.leaf_index, s.leaf, s.chain, (SELECT min(c.size) FROM audit_checkpoints c "
    "WHERE c.log = s.log AND c.size > s.leaf_index) FROM audit_events e "
    "JOIN audit_seals s ON s.log = %(events_log)s AND s.position = e.position "
    "LEFT JOIN audit_subjects sub ON sub.aggregate_id = e.aggregate_id"
)
_ACCESS = (
    "SELECT a.notification_id, a.state, s.leaf_index, s.leaf, s.chain, (SELECT min(c.size) "
    "FROM audit_checkpoints c WHERE c.log = s.log AND c.size > s.leaf_index) FROM audit_access a "
    "LEFT JOIN audit_seals s ON s.log = %(access_log)s AND s.position = a.notification_id"
)


def _sealed(log: str, row: Sequence[Any]) -> Sealed | None:
    index, leaf, chain, checkpoint = row
    if index is None:
        return None
    return Sealed(
        log=log,
        leaf_index=int(index),
        leaf_hash=bytes(leaf).hex(),
        chain_hash=bytes(chain).hex(),
        checkpoint_size=None if checkpoint is None else int(checkpoint),
    )


def _page(items: list[Any], limit: int, offset: int) -> Page[Any]:
    more = len(items) > limit
    return Page(
        items=items[:limit],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )


class PostgresAuditTrail:
    def __init__(
        self,
        pool: ConnectionPool[Any],
        events_log: str,
        access_log: str,
        projections: Sequence[str],
        events_table: str = "slotwise_events",
        effect_sources: Sequence[EffectSource] = EFFECT_SOURCES,
    ) -> None:
        """`events_table`: the event store's, whose stored states side effects are read from;
        `effect_sources`: what explain asks for a request's side effects."""
        self._pool = pool
        self._logs = {"events_log": events_log, "access_log": access_log}
        self._projections = tuple(projections)
        self._events_table = sql.Identifier(events_table)
        self._effect_sources = tuple(effect_sources)

    def _event(self, row: Sequence[Any]) -> AuditedEvent:
        seal = _sealed(self._logs["events_log"], row[12:16])
        assert seal is not None  # noqa: S101 - joined to its seal
        return AuditedEvent(
            position=int(row[0]),
            aggregate_id=row[1],
            version=int(row[2]),
            event_type=str(row[3]),
            recorded_at=row[4],
            actor_id=row[5],
            actor_role=row[6],
            command=row[7],
            correlation_id=row[8],
            causation_id=row[9],
            idempotency_key=row[10],
            patient_id=row[11],
            seal=seal,
        )

    def _access(self, row: Sequence[Any]) -> AccessEntry:
        record = AccessRecord.from_state(bytes(row[1]))
        fields = msgspec.structs.asdict(record)
        del fields["id"]
        return AccessEntry(
            position=int(row[0]), seal=_sealed(self._logs["access_log"], row[2:6]), **fields
        )

    def _rows(self, query: str | sql.Composed, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        # A str here is only ever made of this module's fixed fragments (see above).
        statement = sql.SQL(query) if isinstance(query, str) else query
        with self._pool.connection() as conn:
            rows: list[tuple[Any, ...]] = conn.execute(
                statement, {**self._logs, **params}
            ).fetchall()
        return rows

    def events(self, wanted: EventQuery) -> Page[AuditedEvent]:
        where, params = ["TRUE"], dict(vars(wanted))
        for column, key in (
            ("sub.patient_id", "patient_id"),
            ("e.actor_id", "actor_id"),
            ("e.aggregate_id", "aggregate_id"),
            ("e.correlation_id", "correlation_id"),
            ("e.command", "command"),
        ):
            if params[key] is not None:
                where.append(f"{column} = %({key})s")
        if wanted.start is not None:
            where.append("e.recorded_at >= %(start)s")
        if wanted.end is not None:
            where.append("e.recorded_at < %(end)s")
        direction = "DESC" if wanted.order == "newest" else "ASC"
        query = (
            f"{_EVENT} WHERE {' AND '.join(where)} ORDER BY e.position {direction} "
            "LIMIT %(more)s OFFSET %(offset)s"
        )
        rows = self._rows(query, {**params, "more": wanted.limit + 1})
        return _page([self._event(r) for r in rows], wanted.limit, wanted.offset)

    def accesses(self, wanted: AccessQuery) -> Page[AccessEntry]:
        where, params = ["TRUE"], dict(vars(wanted))
        if wanted.patient_id is not None:
            where.append("a.patient_ids @> ARRAY[%(patient_id)s::uuid]")
        if wanted.actor_id is not None:
            where.append("a.actor_id = %(actor_id)s")
        if wanted.correlation_id is not None:
            where.append("convert_from(a.state, 'UTF8')::jsonb ->> 'correlation_id' = %(cid)s")
            params["cid"] = wanted.correlation_id
        if wanted.start is not None:
            where.append("a.recorded_at >= %(start)s")
        if wanted.end is not None:
            where.append("a.recorded_at < %(end)s")
        direction = "DESC" if wanted.order == "newest" else "ASC"
        query = (
            f"{_ACCESS} WHERE {' AND '.join(where)} ORDER BY a.notification_id {direction} "
            "LIMIT %(more)s OFFSET %(offset)s"
        )
        rows = self._rows(query, {**params, "more": wanted.limit + 1})
        return _page([self._access(r) for r in rows], wanted.limit, wanted.offset)

    def patient_trail(
        self,
        patient_id: UUID,
        start: datetime | None,
        end: datetime | None,
        order: Order,
        limit: int,
        offset: int,
    ) -> Page[TrailEntry]:
        query = sql.SQL("""
            SELECT * FROM (
                SELECT 'write' AS kind, e.recorded_at AS at, e.actor_id, e.actor_role,
                       coalesce(e.command, '') AS what, e.position, e.aggregate_id, e.topic,
                       NULL::int AS outcome, e.correlation_id::text AS correlation_id
                FROM audit_events e JOIN audit_subjects sub ON sub.aggregate_id = e.aggregate_id
                WHERE sub.patient_id = %(patient)s
                UNION ALL
                SELECT 'read', a.recorded_at, a.actor_id, a.actor_role,
                       convert_from(a.state, 'UTF8')::jsonb ->> 'route', a.notification_id,
                       NULL, NULL, a.outcome,
                       convert_from(a.state, 'UTF8')::jsonb ->> 'correlation_id'
                FROM audit_access a WHERE a.patient_ids @> ARRAY[%(patient)s::uuid]
            ) t
            WHERE (%(start)s::timestamptz IS NULL OR t.at >= %(start)s)
              AND (%(end)s::timestamptz IS NULL OR t.at < %(end)s)
            ORDER BY t.at {direction} NULLS LAST, t.kind, t.position {direction}
            LIMIT %(more)s OFFSET %(offset)s
        """).format(direction=sql.SQL("DESC" if order == "newest" else "ASC"))
        params = {"patient": patient_id, "start": start, "end": end, "offset": offset}
        rows = self._rows(query, {**params, "more": limit + 1})
        entries = [
            TrailEntry(
                kind=r[0],
                at=r[1],
                actor_id=r[2],
                actor_role=r[3],
                what=str(r[4]),
                position=int(r[5]),
                aggregate_id=r[6],
                event_type=r[7],
                outcome=r[8],
                correlation_id=r[9],
            )
            for r in rows
        ]
        return _page(entries, limit, offset)

    def explain(self, correlation_id: UUID) -> Explanation | None:
        rows = self._rows(
            f"{_EVENT} WHERE e.correlation_id = %(cid)s ORDER BY e.position",
            {"cid": correlation_id},
        )
        events = [self._event(r) for r in rows]
        reads = self.accesses(AccessQuery(correlation_id=str(correlation_id), order="oldest"))
        if not events and not reads.items:
            return None
        last = max((e.position for e in events), default=0)
        with self._pool.connection() as conn:
            positions = {p: read_watermark(conn, tracking_table(p)) for p in self._projections}
        return Explanation(
            correlation_id=correlation_id,
            commands=list(dict.fromkeys(e.command for e in events if e.command)),
            actors=list(dict.fromkeys(e.actor_id for e in events if e.actor_id)),
            idempotency_keys=[e.idempotency_key for e in events if e.idempotency_key],
            events=events,
            projections=[
                ProjectionApplied(projection=p, position=at, applied=at >= last)
                for p, at in positions.items()
            ],
            reads=reads.items,
            side_effects=[
                effect
                for source in self._effect_sources
                for effect in source.effects(correlation_id, events, self)
            ],
        )

    def following(self, wanted: Following) -> list[tuple[AuditedEvent, dict[str, Any]]]:
        params = {**vars(wanted), "topics": list(wanted.topics)}
        params["until_topics"] = list(wanted.until_topics)
        events = [self._event(r) for r in self._rows(f"{_EVENT} {FOLLOWING}", params)]
        states = dict(
            self._rows(stored_states(self._events_table), {"at": [e.position for e in events]})
        )
        return [(e, fields_of(states.get(e.position))) for e in events]

    def anomalies(self, start: datetime, end: datetime, limits: Thresholds) -> AnomalyReport:
        return anomaly_report(self._rows, start, end, limits)
