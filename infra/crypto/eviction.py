"""Evicts destroyed keys from this process's key cache as soon as any process destroys one:
a thread LISTENs on the channel `PostgresKeyStore.destroy` notifies in its transaction.

If the connection drops, notifications sent meanwhile are lost, so on reconnecting the whole
cache is cleared; while it is down, the cache's time to live bounds how long a destroyed key
can still be used here (docs/privacy.md)."""

from __future__ import annotations

import logging
import threading
from uuid import UUID

import psycopg
from psycopg import sql

from infra.crypto.cache import CachedKeyStore
from infra.crypto.key_store import DESTROYED_CHANNEL

log = logging.getLogger("slotwise.keys")


class KeyEvictions:
    """Runs until `close()`; `ready` is set once it listens (after each reconnection)."""

    def __init__(self, conninfo: str, cache: CachedKeyStore, poll: float = 0.5) -> None:
        self._conninfo = conninfo
        self._cache = cache
        self._poll = poll
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="key-evictions", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(DESTROYED_CHANNEL)))
                    # Whatever was destroyed before we listened (or while we were away) goes.
                    self._cache.clear()
                    self.ready.set()
                    backoff = 0.5
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self._poll):
                            self._cache.evict(UUID(hex=note.payload))
            except (psycopg.Error, ValueError):
                self.ready.clear()
                log.warning("key eviction listener lost its connection; retrying", exc_info=True)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
