"""Sealing throughput: `PostgresSeals.seal_batch` (read, chain and tree hashes, the head and
seals written, checkpoints signed) in events/s, beside a raw read of the same stored events
and one SHA-256 of each entry, on one database in one run, printed as a ratio."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from psycopg_pool import ConnectionPool

from bench.setup import make_bookables, scheduling
from infra.crypto.note import NoteSignerKey
from infra.postgres.database import Database, events_table
from infra.postgres.seals import PostgresSeals
from projections.audit.sealing import CheckpointPolicy

ORIGIN = "slotwise.bench/seal"
BATCH = 500


def report(db: Database, slots: int) -> Iterator[str]:
    app = scheduling(db, 2)
    try:
        make_bookables(app, slots)  # providers and slots: events to seal
        with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
            store = PostgresSeals(pool, events_table(app), ORIGIN)
            events = store.count_events()
            started = time.perf_counter()
            digests = [hashlib.sha256(r.entry()).digest() for r in store.records()]
            raw = time.perf_counter() - started
            signer = NoteSignerKey.development(ORIGIN)
            policy = CheckpointPolicy(every_events=1000, every_seconds=3600)
            started = time.perf_counter()
            sealed = 0
            while (batch := store.seal_batch(BATCH, policy, signer)).sealed:
                sealed += batch.sealed
            seal = time.perf_counter() - started
    finally:
        app.close()
    assert len(digests) == events
    yield f"audit sealing: {sealed} of {events} events"
    yield f"  raw read + SHA-256: {events / raw:10.0f} events/s"
    yield f"  sealing:            {sealed / seal:10.0f} events/s"
    yield f"ratio audit: {(sealed / seal) / (events / raw):.2f} (sealing / raw)"
