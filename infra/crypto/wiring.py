"""Personal-data encryption for one process: the KEK ring from settings (checked against the
stored keys before anything else runs), the data keys on PostgreSQL behind a short cache, a
listener that evicts keys other processes destroy, and the transcoding every application of
the process is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from psycopg_pool import ConnectionPool

from commands.application import SlotwiseApplication
from infra.crypto.cache import CachedKeyStore
from infra.crypto.eviction import KeyEvictions
from infra.crypto.kek import KeyRing
from infra.crypto.key_store import PostgresKeyStore, rotate_kek, verify_key_ring
from infra.crypto.transcoding import PersonalDataAsCiphertext
from infra.settings import Settings

App = TypeVar("App", bound=SlotwiseApplication)


@dataclass(frozen=True)
class PersonalDataKeys:
    keys: CachedKeyStore
    transcoding: PersonalDataAsCiphertext

    def bind(self, app_class: type[App]) -> type[App]:
        """`app_class` constructed with this process's personal data and keys."""
        return app_class.with_personal_data(self.transcoding, self.keys)


@contextmanager
def personal_data_keys(
    settings: Settings, conninfo: str, ring: KeyRing | None = None
) -> Iterator[PersonalDataKeys]:
    """Refuses to start (`SettingsError`, `KekError`) when the KEK is missing, is the dev KEK
    outside dev/test mode, or does not open the stored keys."""
    ring = ring or KeyRing.from_settings(settings)
    with ConnectionPool(conninfo, min_size=1, max_size=2, open=True) as pool:
        verify_key_ring(pool, ring)
        cache = CachedKeyStore(PostgresKeyStore(pool, ring), ttl_seconds=settings.key_cache_seconds)
        evictions = KeyEvictions(conninfo, cache)
        try:
            yield PersonalDataKeys(cache, PersonalDataAsCiphertext(cache))
        finally:
            evictions.close()


@contextmanager
def kek_rotation(settings: Settings, conninfo: str) -> Iterator[Callable[[], int]]:
    """Re-wrapping every data key under the current KEK (`SLOTWISE_KEK`, `SLOTWISE_KEK_VERSION`),
    opening the older ones with the retired KEKs (`SLOTWISE_KEK_RETIRED`); events are untouched.
    The ring is checked against the stored keys first, so a missing retired KEK is refused."""
    ring = KeyRing.from_settings(settings)
    with ConnectionPool(conninfo, min_size=1, max_size=1, open=True) as pool:
        verify_key_ring(pool, ring)
        yield lambda: rotate_kek(pool, ring)
