"""Idempotency records live in the event store, so a command's result is stored in the same
atomic save as the events it caused: a retry can never find the events without the record."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta

IDEMPOTENCY_NAMESPACE = UUID("9a4d6c0e-2b1f-4f7e-8c3a-5d2e1f0a9b87")
MAX_KEY_LENGTH = 255


def record_id(actor_id: UUID, key: str) -> UUID:
    # Scoped by caller: two clients may pick the same key without seeing each other's results.
    return uuid5(IDEMPOTENCY_NAMESPACE, f"{actor_id}/{key}")


def fingerprint(command_name: str, body: bytes) -> str:
    return hashlib.sha256(command_name.encode() + b"\0" + body).hexdigest()


class IdempotencyRecord(Aggregate):
    @event("Recorded")
    def __init__(
        self,
        id: UUID,
        key: str,
        fingerprint: str,
        command: str,
        result: dict[str, Any],
        meta: EventMeta,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.command = command
        self.result = dict(result)
