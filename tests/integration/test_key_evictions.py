"""A key destroyed in one process stops being used in every other at once: each process's key
cache is evicted through PostgreSQL LISTEN/NOTIFY, well within the cache's time to live."""

from __future__ import annotations

import time
from uuid import uuid4

from infra.crypto.wiring import personal_data_keys
from infra.postgres.database import Database
from tests.keys import TEST_SETTINGS


def test_a_key_destroyed_elsewhere_is_evicted_from_this_processs_cache_promptly(
    database: Database,
) -> None:
    subject = uuid4()
    with (
        personal_data_keys(TEST_SETTINGS, database.conninfo) as here,
        personal_data_keys(TEST_SETTINGS, database.conninfo) as elsewhere,
    ):
        assert TEST_SETTINGS.key_cache_seconds >= 60
        key = here.keys.create(subject)
        assert elsewhere.keys.get(subject) == key
        assert subject in elsewhere.keys  # cached there, for up to a minute

        here.keys.destroy(subject)

        deadline = time.monotonic() + 5
        while subject in elsewhere.keys and time.monotonic() < deadline:
            time.sleep(0.02)
        assert subject not in elsewhere.keys
        assert elsewhere.keys.get(subject) is None
