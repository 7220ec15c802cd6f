"""Data keys on PostgreSQL (`slotwise_keys.data_keys`, migration 0007), wrapped by the KEK ring,
and the KEK rotation that re-wraps them (never re-encrypting an event)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from domain.personal import SubjectErasedError
from infra.crypto.aead import new_key
from infra.crypto.kek import KeyRing, UnknownKekError, WrappedKey

TABLE = "slotwise_keys.data_keys"
# Every destruction is announced here (in its transaction), so other processes evict the key
# from their caches at once instead of after the cache's time to live.
DESTROYED_CHANNEL = "slotwise_key_destroyed"

_SELECT = f"SELECT wrapped, kek_version FROM {TABLE} WHERE subject_id = %s"  # noqa: S608
_INSERT = (
    f"INSERT INTO {TABLE} (subject_id, wrapped, kek_version) VALUES (%s, %s, %s) "  # noqa: S608
    "ON CONFLICT (subject_id) DO NOTHING"
)
_DESTROY = (
    f"INSERT INTO {TABLE} AS k (subject_id, destroyed_at) VALUES (%s, now()) "  # noqa: S608
    "ON CONFLICT (subject_id) DO UPDATE SET wrapped = NULL, kek_version = NULL, "
    "destroyed_at = coalesce(k.destroyed_at, now())"
)
_STALE = (
    f"SELECT subject_id, wrapped, kek_version FROM {TABLE} "  # noqa: S608
    "WHERE wrapped IS NOT NULL AND kek_version <> %s AND subject_id > %s "
    "ORDER BY subject_id LIMIT %s FOR UPDATE"
)
_REWRAP = (
    f"UPDATE {TABLE} SET wrapped = %s, kek_version = %s, rewrapped_at = now() "  # noqa: S608
    "WHERE subject_id = %s AND wrapped IS NOT NULL"
)
_ONE_PER_VERSION = (
    f"SELECT DISTINCT ON (kek_version) subject_id, wrapped, kek_version FROM {TABLE} "  # noqa: S608
    "WHERE wrapped IS NOT NULL ORDER BY kek_version, subject_id"
)


class PostgresKeyStore:
    """A `commands.ports.KeyStore` on PostgreSQL. Put a `CachedKeyStore` in front of it."""

    def __init__(self, pool: ConnectionPool[Any], ring: KeyRing) -> None:
        self._pool = pool
        self._ring = ring

    def create(self, subject: UUID) -> bytes:
        wrapped = self._ring.wrap(subject, new_key())
        with self._pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(_INSERT, (subject, wrapped.blob, wrapped.kek_version))
            row = cur.execute(_SELECT, (subject,)).fetchone()
        if row is None or row[0] is None:
            raise SubjectErasedError(f"data subject {subject} was erased")
        return self._ring.unwrap(subject, WrappedKey(row[1], bytes(row[0])))

    def get(self, subject: UUID) -> bytes | None:
        with self._pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute(_SELECT, (subject,)).fetchone()
        if row is None or row[0] is None:
            return None
        return self._ring.unwrap(subject, WrappedKey(row[1], bytes(row[0])))

    def destroy(self, subject: UUID) -> None:
        with self._pool.connection() as conn:
            conn.execute(_DESTROY, (subject,))
            conn.execute("SELECT pg_notify(%s, %s)", (DESTROYED_CHANNEL, subject.hex))


def verify_key_ring(pool: ConnectionPool[Any], ring: KeyRing) -> None:
    """Refuse a KEK configuration that cannot open the stored keys: one key per stored KEK
    version must unwrap (`KekError` otherwise). Call at start-up, before serving."""
    with pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(_ONE_PER_VERSION).fetchall()
    for subject, blob, version in rows:
        if version not in ring.versions:
            raise UnknownKekError(f"data keys are wrapped by KEK version {version}, not configured")
        ring.unwrap(subject, WrappedKey(version, bytes(blob)))


def rotate_kek(pool: ConnectionPool[Any], ring: KeyRing, batch_size: int = 500) -> int:
    """Re-wrap every live data key under the ring's current KEK; returns how many were.

    Events are not touched: they are encrypted with the data keys, which stay the same. Safe to
    rerun after an interruption and beside live traffic. Once it is done, the retired KEK can be
    removed from the configuration (and destroyed, which also shreds keys in old backups)."""
    rewrapped = 0
    after = UUID(int=0)
    while True:
        with pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            stale = cur.execute(_STALE, (ring.current.version, after, batch_size)).fetchall()
            if not stale:
                return rewrapped
            updates = []
            for subject, blob, version in stale:
                fresh = ring.rewrap(subject, WrappedKey(version, bytes(blob)))
                updates.append((fresh.blob, fresh.kek_version, subject))
            cur.executemany(_REWRAP, updates)
        rewrapped += len(stale)
        after = stale[-1][0]
