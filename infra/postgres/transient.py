"""Which database errors are an outage to wait out, as opposed to a fault of the work itself.

A server that restarts, a dropped connection, a pool with nothing to hand out, a lock or
serialisation conflict: retrying the same work later succeeds. A statement the server refuses
for what it holds (text it cannot store, a value out of range, an index row too large) fails
the same way every time, so it is not transient and a projection must stop or dead-letter on
it instead of waiting forever."""

from __future__ import annotations

import psycopg
from eventsourcing import persistence

# SQLSTATE classes of a connection or server outage, and of conflicts that clear on retry:
# 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
# crash, cannot connect now, cancelled), 58 system error, 40 transaction rollback.
_TRANSIENT_CLASSES = frozenset({"08", "53", "57", "58", "40"})
_TRANSIENT_STATES = frozenset({"55P03"})  # lock_not_available (lock_timeout)

# What the API maps to 503 when `is_transient` says so (the rest stays a 500).
ERROR_TYPES: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a database outage worth retrying."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, psycopg.Error):
            return _transient_psycopg(seen)
        if isinstance(seen, persistence.OperationalError | persistence.InterfaceError):
            # The event store's own wrapper, raised `from` the driver's error when there is one.
            return seen.__cause__ is None or is_transient(seen.__cause__)
        seen = seen.__cause__
    return False


def _transient_psycopg(error: psycopg.Error) -> bool:
    if isinstance(error, psycopg.InterfaceError):
        return True  # a closed or broken connection used again
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    # No SQLSTATE: the client failed to connect or lost the server (including PoolTimeout).
    return state is None or state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_STATES
