"""Rebuilds write upserts in bulk (infra/postgres/batched_rows.py). Whatever the order of
upserts, updates, deletes and redactions of a few rows of two tables, the bulk writer leaves
the same rows as the one-statement-per-change writer the live projections use."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from infra.postgres.batched_rows import BatchedChanges
from infra.postgres.database import Database
from infra.postgres.rows import apply_changes
from projections.changes import Change, Delete, Redact, Update, Upsert

TABLES = ("bt_rows", "bt_other")


@pytest.fixture
def conn(database: Database) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database.conninfo, autocommit=True) as connection:
        for side in ("one", "bulk"):
            for table in TABLES:
                connection.execute(f"DROP TABLE IF EXISTS {table}_{side}")
                connection.execute(
                    f"CREATE TABLE {table}_{side} (id int PRIMARY KEY, note text, n int, "
                    "extra jsonb)"
                )
        yield connection


def random_changes(rng: random.Random, count: int) -> list[Change]:
    changes: list[Change] = []
    for _ in range(count):
        table = rng.choice(TABLES)
        key = {"id": rng.randint(1, 6)}
        kind = rng.random()
        if kind < 0.5:
            values = {"note": rng.choice(["a", "b", None]), "n": rng.randint(0, 9)}
            if rng.random() < 0.3:
                values = {"n": rng.randint(0, 9)}  # another shape of the same table
            changes.append(Upsert(table, key, values))
        elif kind < 0.75:
            changes.append(
                Update(
                    table,
                    key,
                    {"extra": {rng.choice("xy"): rng.randint(0, 9)}},
                    frozenset({"extra"}),
                )
            )
        elif kind < 0.9:
            changes.append(Delete(table, key))
        else:
            changes.append(Redact(table, {"note": "a"}, ("note",), "[erased]"))
    return changes


def rows(conn: psycopg.Connection[Any], side: str) -> list[Any]:
    return [
        conn.execute(f"SELECT * FROM {table}_{side} ORDER BY id").fetchall() for table in TABLES
    ]


@pytest.mark.parametrize("seed", range(25))
def test_bulk_upserts_leave_the_rows_one_statement_per_change_leaves(
    conn: psycopg.Connection[Any], seed: int
) -> None:
    changes = random_changes(random.Random(seed), 60)
    with conn.transaction(), conn.cursor() as cur:
        apply_changes(cur, changes, into=lambda t: f"{t}_one")
    with conn.transaction(), conn.pipeline(), conn.cursor() as cur:
        bulk = BatchedChanges(cur, lambda t: f"{t}_bulk")
        bulk.add(changes[:25])
        bulk.add(changes[25:])
        bulk.flush()
    assert rows(conn, "bulk") == rows(conn, "one")
    assert bulk.statements < len(changes)
