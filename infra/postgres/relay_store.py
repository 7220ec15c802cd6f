"""The relay's recorded position, and a LISTEN/NOTIFY wake-up on the event store's channel."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool


class PostgresPositions:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def get(self, name: str) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM relay_positions WHERE relay = %s", (name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def set(self, name: str, position: int) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO relay_positions (relay, position) VALUES (%s, %s) "
                "ON CONFLICT (relay) DO UPDATE SET position = EXCLUDED.position, "
                "updated_at = now() WHERE relay_positions.position < EXCLUDED.position",
                (name, position),
            )


class LogListener:
    """Blocks until the event store notifies new events, or the timeout passes.

    A lost connection (the server restarted) is closed and reported by raising; the next wait
    connects and listens again, and returns at once since notifications may have been missed
    meanwhile (the relay then reads the log, which is the truth anyway)."""

    def __init__(self, conninfo: str, channel: str, connect_timeout: int = 5) -> None:
        self._conninfo = conninfo
        self._listen = sql.SQL("LISTEN {}").format(sql.Identifier(channel))
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._connect()

    def _connect(self) -> None:
        conn = psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=self._connect_timeout
        )
        try:
            conn.execute(self._listen)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        if self._conn is None or self._conn.closed:
            self.close()
            self._connect()
            return True
        try:
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
        except psycopg.Error:
            self.close()
            raise
        return False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
