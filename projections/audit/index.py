"""The auditor's index of the event log: each stored event's metadata (who, through which
command, in which request chain, when) and which patient an aggregate concerns, read from the
stored bytes as the sealer seals them. Pure: it parses the JSON the event store holds, never
decrypts anything (personal values stay ciphertext and are not looked at).

An aggregate concerns a patient when it is the patient (`domain.patient:Patient`) or when its
creation event names a `patient_id` (appointments, agenda days, and any later aggregate that
does the same, such as waitlist entries or messages)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.audit.chain import LogRecord

PATIENT_TOPIC = "domain.patient:Patient."
IDEMPOTENCY_TOPIC = "commands.idempotency:IdempotencyRecord."


@dataclass(frozen=True)
class IndexedEvent:
    position: int
    aggregate_id: UUID
    version: int
    topic: str
    recorded_at: datetime | None
    actor_id: UUID | None
    actor_role: str | None
    correlation_id: UUID | None
    causation_id: UUID | None
    command: str | None
    idempotency_key: str | None
    patient_id: UUID | None  # set on an aggregate's first event when it concerns a patient


def _plain(value: Any) -> Any:
    """A value of the eventsourcing JSON transcoder's `{"_type_": ..., "_data_": ...}` form."""
    if isinstance(value, dict) and "_type_" in value and "_data_" in value:
        kind, data = value["_type_"], value["_data_"]
        if kind == "uuid_hex":
            return UUID(data)
        if kind == "datetime_iso":
            return datetime.fromisoformat(data)
        return data if kind == "event_meta" else None
    return value


def _uuid(value: Any) -> UUID | None:
    found = _plain(value)
    return found if isinstance(found, UUID) else None


def indexed(record: LogRecord) -> IndexedEvent:
    try:
        state = json.loads(record.state)
    except ValueError:
        state = {}
    if not isinstance(state, dict):
        state = {}
    meta = _plain(state.get("meta"))
    meta = meta if isinstance(meta, dict) else {}
    when = _plain(state.get("timestamp"))
    patient: UUID | None = None
    if record.version == 1:
        if record.topic.startswith(PATIENT_TOPIC):
            patient = record.originator_id
        else:
            patient = _uuid(state.get("patient_id"))
    key = state.get("key") if record.topic.startswith(IDEMPOTENCY_TOPIC) else None
    role = meta.get("actor_role")
    command = meta.get("command")
    return IndexedEvent(
        position=record.position,
        aggregate_id=record.originator_id,
        version=record.version,
        topic=record.topic,
        recorded_at=when if isinstance(when, datetime) else None,
        actor_id=_uuid(meta.get("actor_id")),
        actor_role=role if isinstance(role, str) else None,
        correlation_id=_uuid(meta.get("correlation_id")),
        causation_id=_uuid(meta.get("causation_id")),
        command=command if isinstance(command, str) else None,
        idempotency_key=key if isinstance(key, str) else None,
        patient_id=patient,
    )
