"""A short-lived in-memory cache in front of a key store, so encrypting and decrypting do not
cost a database round trip per value. Destroying a key through it evicts the key at once; other
processes drop theirs within the time to live (docs/privacy.md)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from commands.ports import KeyStore


class CachedKeyStore:
    """A `commands.ports.KeyStore` keeping up to `max_keys` keys for `ttl_seconds` each."""

    def __init__(
        self,
        inner: KeyStore,
        ttl_seconds: float = 60.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._max = max_keys
        self._clock = clock
        self._keys: OrderedDict[UUID, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, subject: UUID) -> bytes:
        cached = self._cached(subject)
        if cached is not None:
            return cached
        return self._keep(subject, self._inner.create(subject))

    def get(self, subject: UUID) -> bytes | None:
        cached = self._cached(subject)
        if cached is not None:
            return cached
        key = self._inner.get(subject)
        # Absence is not cached: it is final once destroyed, and a key made meanwhile must show.
        return None if key is None else self._keep(subject, key)

    def destroy(self, subject: UUID) -> None:
        self.evict(subject)
        try:
            self._inner.destroy(subject)
        finally:
            self.evict(subject)  # a reader may have cached it again meanwhile

    def evict(self, subject: UUID) -> None:
        with self._lock:
            self._keys.pop(subject, None)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()

    def __contains__(self, subject: object) -> bool:
        return isinstance(subject, UUID) and self._cached(subject) is not None

    def _cached(self, subject: UUID) -> bytes | None:
        now = self._clock()
        with self._lock:
            entry = self._keys.get(subject)
            if entry is None:
                return None
            expires, key = entry
            if expires <= now:
                del self._keys[subject]
                return None
            self._keys.move_to_end(subject)
            return key

    def _keep(self, subject: UUID, key: bytes) -> bytes:
        with self._lock:
            self._keys[subject] = (self._clock() + self._ttl, key)
            self._keys.move_to_end(subject)
            while len(self._keys) > self._max:
                self._keys.popitem(last=False)
        return key
