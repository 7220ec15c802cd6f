"""What the audit-log tests share: a log with real events (and a real gap), a store on it,
and sealing it to the end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import uvicorn
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg_pool import ConnectionPool

from api.app import create_app
from commands.scheduling import Scheduling
from infra.crypto.note import NoteSignerKey
from infra.postgres.database import Database, events_table
from infra.postgres.seals import PostgresSeals
from infra.settings import Settings
from projections.audit.sealing import CheckpointPolicy
from tests.builders import create_slot, patient_books, patient_registers, register_provider

SIGNER = NoteSignerKey("slotwise.test/events", bytes(range(32)))


def fill(app: Scheduling, bookings: int) -> UUID:
    """A provider, `bookings` patients each booking a slot of their own; returns the provider."""
    provider_id = register_provider(app)
    tomorrow = datetime.now(UTC) + timedelta(days=2)
    base = tomorrow.replace(hour=6, minute=0, second=0, microsecond=0)
    for n in range(bookings):
        slot_id = create_slot(app, provider_id, start=base + timedelta(days=n // 9, hours=n % 9))
        patient_books(app, patient_registers(app, name=f"Patient {n}"), slot_id)
    return provider_id


def rolled_back_insert(app: Scheduling, originator_id: UUID) -> None:
    """An insert that takes a position and rolls back (a version conflict), leaving a gap."""
    clash = StoredEvent(originator_id=originator_id, originator_version=1, topic="t", state=b"")
    with pytest.raises(IntegrityError):
        app.recorder.insert_events([clash])


def store_on(app: Scheduling, pool: ConnectionPool[Any], origin: str) -> PostgresSeals:
    return PostgresSeals(pool, events_table(app), origin)


def seal_to_end(store: PostgresSeals, policy: CheckpointPolicy, limit: int = 13) -> list[int]:
    """Seal everything sealable (confirming gaps); the sizes of the checkpoints signed."""
    signed = []
    while True:
        batch = store.seal_batch(limit, policy, SIGNER)
        if batch.checkpoint is not None:
            signed.append(batch.checkpoint[0])
        if batch.at_gap and batch.sealed == 0:
            assert store.confirm_gaps(), "no insert is in flight, so the lock is granted"
            continue
        if batch.sealed == 0:
            return signed


def api_settings(db: Database, state: Path) -> Settings:
    return Settings.from_env(
        {
            "SLOTWISE_MODE": "test",
            "DATABASE_URL": db.conninfo,
            "SLOTWISE_STATE_DIR": str(state),
            "SLOTWISE_POOL_SIZE": "8",
        }
    )


@contextmanager
def serving(settings: Settings, port: int) -> Iterator[str]:
    """The real API (create_app's own wiring) served by uvicorn in a thread of this process."""
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not server.started:
        assert thread.is_alive(), "the API did not start"
        assert datetime.now(UTC) < deadline, "the API did not start in time"
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
