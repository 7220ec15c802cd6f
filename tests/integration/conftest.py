"""Integration fixtures: the Scheduling application on the session's PostgreSQL database, a
clock the test controls, and a database of its own per module. Steps live in tests/builders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from commands.scheduling import Scheduling
from infra.postgres.database import Database, eventstore_env, prepare
from infra.postgres.server import PostgresLocation, create_database, drop_database
from tests.builders import T0
from tests.fakes import FixedClock
from tests.keys import keyed_scheduling


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture(scope="module")
def scheduling_class(database: Database) -> Iterator[type[Scheduling]]:
    """Scheduling with the module database's personal-data keys, as every process wires it."""
    with keyed_scheduling(database) as keyed:
        yield keyed


@pytest.fixture
def app(
    store_env: dict[str, str], clock: FixedClock, scheduling_class: type[Scheduling]
) -> Iterator[Scheduling]:
    scheduling = scheduling_class(store_env, clock=clock)
    try:
        yield scheduling
    finally:
        scheduling.close()


@pytest.fixture
def other_app(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[Scheduling]:
    """A second application on the same store: what it loads was really persisted."""
    scheduling = scheduling_class(store_env)
    try:
        yield scheduling
    finally:
        scheduling.close()


@pytest.fixture(scope="module")
def database(pg_location: PostgresLocation) -> Iterator[Database]:
    """Each integration module gets a database of its own: projections run here write a
    watermark that must not be shared with the e2e stack's worker or with other modules."""
    with isolated_database(pg_location) as db:
        yield db


@pytest.fixture(scope="module")
def store_env(database: Database) -> dict[str, str]:
    return eventstore_env(database, pool_size=4)


@contextmanager
def isolated_database(location: PostgresLocation) -> Iterator[Database]:
    """A database of its own, with the read-model schema, dropped afterwards."""
    name = f"slotwise_it_{uuid.uuid4().hex[:12]}"
    create_database(location.conninfo, name)
    try:
        db = Database(location, name)
        prepare(db)
        yield db
    finally:
        drop_database(location.conninfo, name)
