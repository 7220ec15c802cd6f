"""Personal-data keys for tests on PostgreSQL: the Scheduling class wired as every process wires
it (the development KEK, keys in the database's own `slotwise_keys` schema, the eviction
listener), for a database of the test's choosing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from commands.scheduling import Scheduling
from infra.crypto.wiring import personal_data_keys
from infra.postgres.database import Database
from infra.settings import Settings

TEST_SETTINGS = Settings.from_env({"SLOTWISE_MODE": "test"})


@contextmanager
def keyed_scheduling(db: Database) -> Iterator[type[Scheduling]]:
    """Scheduling bound to `db`'s data keys, for as long as the `with` lasts."""
    with personal_data_keys(TEST_SETTINGS, db.conninfo) as keys:
        yield keys.bind(Scheduling)
