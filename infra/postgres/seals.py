"""The sealed log in PostgreSQL: the head of each log, its seals and its signed checkpoints
(migration 0008), and the event store's rows read as log records.

A batch is one transaction: the head row is locked (two sealers never interleave), the next
events are read, sealed by the pure code in projections/audit, and the seals, the new head and
a checkpoint when one is due are written together. A sealer killed at any point leaves the
head and the seals of the last committed batch; the next one resumes from there."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from projections.audit.chain import GENESIS, LogRecord
from projections.audit.checkpoint import Checkpoint, NoteSigner
from projections.audit.merkle import CompactRange, Node
from projections.audit.sealing import CheckpointPolicy, Head, Seal, seal, sealable

_COLUMNS = "notification_id, originator_id, originator_version, topic, state"


@dataclass(frozen=True)
class Batch:
    sealed: int
    size: int
    checkpoint: tuple[int, str] | None  # (size, signed note) when one was signed
    at_gap: bool  # stopped before a position that is missing and not yet known to be a gap


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str


def _record(row: tuple[Any, ...]) -> LogRecord:
    return LogRecord(int(row[0]), row[1], int(row[2]), str(row[3]), bytes(row[4]))


def _seal(row: tuple[Any, ...]) -> Seal:
    return Seal(int(row[0]), int(row[1]), bytes(row[2]), bytes(row[3]))


Index = Callable[[psycopg.Connection[Any], Sequence[LogRecord]], None]
"""Called with the records of each batch in the transaction that seals them."""


class PostgresSeals:
    def __init__(
        self,
        pool: ConnectionPool[Any],
        events_table: str,
        origin: str,
        index: Index | None = None,
    ) -> None:
        self._pool = pool
        self._index = index
        self._events = sql.Identifier(events_table)
        self.origin = origin
        self._after = sql.SQL(
            "SELECT {} FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(sql.SQL(_COLUMNS), self._events)

    # --- sealing ---------------------------------------------------------------------------

    def _lock_head(self, conn: psycopg.Connection[Any]) -> tuple[Head, int]:
        conn.execute(
            "INSERT INTO audit_heads (log, size, position, chain, tree) VALUES (%s, 0, 0, %s, '')"
            " ON CONFLICT (log) DO NOTHING",
            (self.origin, GENESIS),
        )
        row = conn.execute(
            "SELECT size, position, chain, tree, horizon FROM audit_heads WHERE log = %s "
            "FOR UPDATE",
            (self.origin,),
        ).fetchone()
        assert row is not None  # noqa: S101 - inserted above
        size = int(row[0])
        tree = CompactRange.from_bytes(size, bytes(row[3]))
        return Head(size, int(row[1]), bytes(row[2]), tree), int(row[4])

    def seal_batch(self, limit: int, policy: CheckpointPolicy, signer: NoteSigner) -> Batch:
        """Seal the next events that can no longer change, and sign a checkpoint if due."""
        with self._pool.connection() as conn, conn.transaction():
            head, horizon = self._lock_head(conn)
            limit = policy.batch_limit(head.size, limit)
            rows = conn.execute(self._after, (head.position, limit)).fetchall()
            records = [_record(row) for row in rows]
            count = sealable(head.position, [r.position for r in records], horizon)
            nodes: list[Node] = []
            seals = seal(head, records[:count], nodes)
            if seals:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO audit_seals (log, leaf_index, position, leaf, chain) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        [(self.origin, s.index, s.position, s.leaf, s.chain) for s in seals],
                    )
                    if nodes:
                        cur.executemany(
                            "INSERT INTO audit_nodes (log, level, idx, hash) "
                            "VALUES (%s, %s, %s, %s)",
                            [(self.origin, n.level, n.index, n.hash) for n in nodes],
                        )
                conn.execute(
                    "UPDATE audit_heads SET size = %s, position = %s, chain = %s, tree = %s, "
                    "updated_at = now() WHERE log = %s",
                    (head.size, head.position, head.chain, head.tree.to_bytes(), self.origin),
                )
                if self._index is not None:
                    self._index(conn, records[:count])
            signed = self._checkpoint_if_due(conn, head, policy, signer)
        return Batch(len(seals), head.size, signed, count < len(records))

    def _checkpoint_if_due(
        self,
        conn: psycopg.Connection[Any],
        head: Head,
        policy: CheckpointPolicy,
        signer: NoteSigner,
    ) -> tuple[int, str] | None:
        last = conn.execute(
            "SELECT size, extract(epoch FROM now() - created_at) FROM audit_checkpoints "
            "WHERE log = %s ORDER BY size DESC LIMIT 1",
            (self.origin,),
        ).fetchone()
        last_size, since = (int(last[0]), float(last[1])) if last else (0, None)
        if not policy.due(head.size, last_size, since):
            return None
        checkpoint = Checkpoint(self.origin, head.size, head.tree.root())
        note = signer.sign(checkpoint.body())
        conn.execute(
            "INSERT INTO audit_checkpoints (log, size, root, note) VALUES (%s, %s, %s, %s)",
            (self.origin, checkpoint.size, checkpoint.root, note),
        )
        return checkpoint.size, note

    def confirm_gaps(self, lock_timeout_ms: int = 200) -> bool:
        """Wait for inserts in flight to end, then record that every position missing up to
        the log's head now is a gap for good (a rolled-back insert; sequence values are never
        issued twice). Takes a SHARE lock on the events table for one statement, which the
        event store's writers (EXCLUSIVE lock per insert) wait for; False if it timed out."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(lock_timeout_ms))
                conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(self._events))
                row = conn.execute(
                    sql.SQL("SELECT max(notification_id) FROM {}").format(self._events)
                ).fetchone()
                conn.execute(
                    "UPDATE audit_heads SET horizon = GREATEST(horizon, %s) WHERE log = %s",
                    (int(row[0] or 0) if row else 0, self.origin),
                )
        except psycopg.errors.LockNotAvailable:
            return False
        return True

    # --- reading -----------------------------------------------------------------------------

    def head(self) -> tuple[int, int]:
        """(size, last sealed position)."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT size, position FROM audit_heads WHERE log = %s", (self.origin,)
            ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT size, root, note FROM audit_checkpoints WHERE log = %s ORDER BY size",
                (self.origin,),
            ).fetchall()
        return [StoredCheckpoint(int(r[0]), bytes(r[1]), str(r[2])) for r in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT size, root, note FROM audit_checkpoints WHERE log = %s "
                "ORDER BY size DESC LIMIT 1",
                (self.origin,),
            ).fetchone()
        return StoredCheckpoint(int(row[0]), bytes(row[1]), str(row[2])) if row else None

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT size, root, note FROM audit_checkpoints WHERE log = %s AND size = %s",
                (self.origin, size),
            ).fetchone()
        return StoredCheckpoint(int(row[0]), bytes(row[1]), str(row[2])) if row else None

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT leaf FROM audit_seals WHERE log = %s AND leaf_index >= %s "
                "AND leaf_index < %s ORDER BY leaf_index",
                (self.origin, start, end),
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def nodes(self, blocks: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored roots of the perfect subtrees `blocks` ((level, index); level 0: leaves)."""
        leaves = [index for level, index in blocks if level == 0]
        inner = [(level, index) for level, index in blocks if level > 0]
        found: dict[tuple[int, int], bytes] = {}
        with self._pool.connection() as conn:
            if leaves:
                for index, leaf in conn.execute(
                    "SELECT leaf_index, leaf FROM audit_seals WHERE log = %s "
                    "AND leaf_index = ANY(%s)",
                    (self.origin, leaves),
                ):
                    found[(0, int(index))] = bytes(leaf)
            if inner:
                for level, index, digest in conn.execute(
                    "SELECT level, idx, hash FROM audit_nodes WHERE log = %s AND "
                    "(level, idx) IN (SELECT * FROM unnest(%s::smallint[], %s::bigint[]))",
                    (self.origin, [b[0] for b in inner], [b[1] for b in inner]),
                ):
                    found[(int(level), int(index))] = bytes(digest)
        return found

    def seal_at(self, position: int) -> Seal | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT leaf_index, position, leaf, chain FROM audit_seals "
                "WHERE log = %s AND position = %s",
                (self.origin, position),
            ).fetchone()
        return _seal(row) if row else None

    def position_of(self, originator_id: Any, version: int) -> int | None:
        query = sql.SQL(
            "SELECT notification_id FROM {} WHERE originator_id = %s AND originator_version = %s"
        ).format(self._events)
        with self._pool.connection() as conn:
            row = conn.execute(query, (originator_id, version)).fetchone()
        return int(row[0]) if row else None

    def records(self, batch: int = 2000) -> Iterator[LogRecord]:
        """Every stored event in log order, streamed."""
        after = 0
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(self._after, (after, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield _record(row)
            after = int(rows[-1][0])

    def seals(self, batch: int = 5000) -> Iterator[Seal]:
        after = -1
        while True:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    "SELECT leaf_index, position, leaf, chain FROM audit_seals WHERE log = %s "
                    "AND leaf_index > %s ORDER BY leaf_index LIMIT %s",
                    (self.origin, after, batch),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _seal(row)
            after = int(rows[-1][0])

    def count_events(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._events)).fetchone()
        return int(row[0]) if row else 0
