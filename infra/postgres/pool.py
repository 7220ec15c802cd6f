"""The connection pools of read models and worker state.

Each connection is checked as it is handed out, so one broken by a server restart is replaced
rather than failing the first query after the database returns; and a caller waits a bounded
time for a connection, so an outage answers with an error that says so (the API's 503) instead
of holding the request."""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

# How long a caller waits for a connection before PoolTimeout (an OperationalError).
WAIT_FOR_CONNECTION = 5.0
# How long the pool keeps retrying one connection (1 s, then twice as long each time) before it
# gives up on it. Short, so that attempts do not drift seconds apart during an outage: after
# giving up, the next caller starts a fresh attempt at once.
RECONNECT_FOR = 2.0


def connection_pool(
    conninfo: str, max_size: int, timeout: float = WAIT_FOR_CONNECTION
) -> ConnectionPool[Any]:
    return ConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        check=ConnectionPool.check_connection,
        timeout=timeout,
        reconnect_timeout=RECONNECT_FOR,
        kwargs={"connect_timeout": 5},
    )
