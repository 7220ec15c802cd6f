"""The search behaviour suite on the PostgreSQL backend (migration 0006), in a database of this
module's own; every test starts from empty search tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from infra.postgres.database import Database
from infra.postgres.search.backend import PostgresSearch
from tests.search_behaviour import SearchBehaviour


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as opened:
        yield opened


@pytest.fixture
def postgres_search(pool: ConnectionPool[Any]) -> PostgresSearch:
    with pool.connection() as conn:
        conn.execute("TRUNCATE sr_providers, sr_slots, sr_notes")
    return PostgresSearch(pool)


@pytest.fixture
def search_index(postgres_search: PostgresSearch) -> PostgresSearch:
    return postgres_search


@pytest.fixture
def search_backend(postgres_search: PostgresSearch) -> PostgresSearch:
    return postgres_search


class TestPostgresSearch(SearchBehaviour):
    pass
