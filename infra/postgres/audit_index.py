"""Writes the auditor's index of the event log (migration 0011) in the sealer's transaction:
an event is indexed exactly when it is sealed, so an answer always names its seal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from projections.audit.chain import LogRecord
from projections.audit.index import indexed


def write_index(conn: psycopg.Connection[Any], records: Sequence[LogRecord]) -> None:
    events = [indexed(r) for r in records]
    if not events:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO audit_events (position, aggregate_id, version, topic, recorded_at, "
            "actor_id, actor_role, correlation_id, causation_id, command, idempotency_key) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    e.position,
                    e.aggregate_id,
                    e.version,
                    e.topic,
                    e.recorded_at,
                    e.actor_id,
                    e.actor_role,
                    e.correlation_id,
                    e.causation_id,
                    e.command,
                    e.idempotency_key,
                )
                for e in events
            ],
        )
        subjects = [(e.aggregate_id, e.patient_id) for e in events if e.patient_id is not None]
        if subjects:
            cur.executemany(
                "INSERT INTO audit_subjects (aggregate_id, patient_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                subjects,
            )
