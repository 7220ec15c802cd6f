"""The connection pools of read models and worker state.

A connection is not pinged as it is handed out (a round trip per query; issue 16 measured it):
it is checked on error instead. When a query fails for want of its connection (a server
restart cut them all), every idle connection of the pool is checked at once and the dead ones
replaced, so the failure is the one request's (the API answers 503) and the next gets a live
connection; psycopg_pool also drops a broken connection when it is returned. A caller waits a
bounded time for a connection, so an outage answers with an error that says so (the API's 503)
instead of holding the request."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

# How long a caller waits for a connection before PoolTimeout (an OperationalError).
WAIT_FOR_CONNECTION = 5.0
# How long the pool keeps retrying one connection (1 s, then twice as long each time) before it
# gives up on it. Short, so that attempts do not drift seconds apart during an outage: after
# giving up, the next caller starts a fresh attempt at once.
RECONNECT_FOR = 2.0


class CheckOnErrorPool(ConnectionPool[Any]):
    """A pool that checks its idle connections when one in use fails."""

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[Any]:
        try:
            with super().connection(timeout) as conn:
                yield conn
        except PoolTimeout:
            raise
        except psycopg.OperationalError:
            with contextlib.suppress(Exception):
                self.check()
            raise


@contextmanager
def one_statement(pool: ConnectionPool[Any]) -> Iterator[Any]:
    """A connection for one read-only statement, in autocommit: the statement is its own
    transaction, without the BEGIN and COMMIT round trips of the pool's default (two of a
    query's three). Not for several statements that must see one snapshot, nor for writes."""
    with pool.connection() as conn:
        if conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
            # Already autocommit, or a caller's transaction lent through a pool-like wrapper
            # (an as-of view reads one snapshot): read in it.
            yield conn
            return
        conn.autocommit = True
        try:
            yield conn
        finally:
            # A broken connection is discarded by the pool whatever its mode.
            with contextlib.suppress(psycopg.Error):
                conn.autocommit = False


def connection_pool(
    conninfo: str, max_size: int, timeout: float = WAIT_FOR_CONNECTION
) -> ConnectionPool[Any]:
    return CheckOnErrorPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        timeout=timeout,
        reconnect_timeout=RECONNECT_FOR,
        kwargs={"connect_timeout": 5},
    )
