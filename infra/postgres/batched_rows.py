"""Row changes applied in bulk, for rebuilds: consecutive upserts of one table become one
multi-row `INSERT ... ON CONFLICT` per shape instead of a statement per row.

Changes of one table keep their order where it matters: upserts wait, grouped, until a change
that could depend on them arrives (any other change of that table, an upsert of a row already
waiting, or an upsert keyed by other columns), which first writes what waits. Changes of
different tables are independent (the shadow tables have no foreign keys or triggers), so one
table's waiting upserts do not hold back another's changes. A statement never touches one row
twice, which `ON CONFLICT DO UPDATE` would refuse."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from psycopg import Cursor, sql

from infra.postgres.rows import adapt, bind_params, statement, upsert_sql
from projections.changes import Change, Upsert

# PostgreSQL allows 65,535 parameters per statement; stay well below.
MAX_PARAMETERS = 20_000

Shape = tuple[tuple[str, ...], tuple[str, ...]]  # key columns, value columns


@functools.lru_cache(maxsize=256)
def _insert_many(table: str, key: tuple[str, ...], values: tuple[str, ...], rows: int) -> str:
    row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * (len(key) + len(values))))
    return upsert_sql(sql.Identifier(table), key, values, sql.SQL(", ").join([row] * rows))


class _Waiting:
    """One table's upserts not yet written."""

    def __init__(self) -> None:
        self.key: tuple[str, ...] | None = None
        self.keys: set[tuple[Any, ...]] = set()
        self.rows: dict[Shape, list[list[Any]]] = {}


class BatchedChanges:
    """Collects the changes of a batch of events; `flush` writes what still waits."""

    def __init__(self, cur: Cursor[Any], into: Callable[[str], str]) -> None:
        self._cur = cur
        self._into = into
        self._waiting: dict[str, _Waiting] = {}
        self.statements = 0

    def add(self, changes: Iterable[Change]) -> None:
        for change in changes:
            table = self._into(change.table)
            if isinstance(change, Upsert):
                self._upsert(table, change)
            else:
                self._write(table)
                self._cur.execute(statement(change, table), bind_params(change))
                self.statements += 1

    def _upsert(self, table: str, change: Upsert) -> None:
        key = tuple(change.key)
        key_values = tuple(change.key.values())
        waiting = self._waiting.get(table)
        if waiting is not None and (waiting.key != key or key_values in waiting.keys):
            self._write(table)
            waiting = None
        if waiting is None:
            waiting = self._waiting[table] = _Waiting()
            waiting.key = key
        waiting.keys.add(key_values)
        shape = (key, tuple(change.values))
        row = [*key_values, *(adapt(v) for v in change.values.values())]
        waiting.rows.setdefault(shape, []).append(row)

    def _write(self, table: str) -> None:
        waiting = self._waiting.pop(table, None)
        if waiting is None:
            return
        for (key, values), rows in waiting.rows.items():
            per_statement = max(MAX_PARAMETERS // (len(key) + len(values)), 1)
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                params = [value for row in chunk for value in row]
                self._cur.execute(_insert_many(table, key, values, len(chunk)), params)
                self.statements += 1

    def flush(self) -> None:
        for table in list(self._waiting):
            self._write(table)
