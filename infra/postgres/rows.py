"""The PostgreSQL side of projections: applies row changes and the tracking position in one
transaction, so a restart neither loses nor double-applies an event."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg import Cursor, sql
from psycopg.types.json import Jsonb

from infra.postgres.tracking import AnnouncedTracking
from projections.changes import Change, Delete, Redact, RowView, Update


def _json_default(value: object) -> str:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def adapt(value: Any) -> Any:
    if isinstance(value, dict):
        return Jsonb(value, dumps=lambda v: json.dumps(v, default=_json_default))
    return value


Names = tuple[str, ...]


def _where(key: Names) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(f"k_{k}")) for k in key
    )


def bind_params(change: Change) -> dict[str, Any]:
    params = {f"k_{k}": v for k, v in change.key.items()}
    if isinstance(change, Redact):
        params.update({"marker": change.marker, "keep": list(change.keep)})
    elif not isinstance(change, Delete):
        params.update({f"v_{k}": adapt(v) for k, v in change.values.items()})
    return params


@functools.lru_cache(maxsize=1024)
def _render(kind: str, table: str, key: Names, values: Names, merge: Names) -> str:
    # A statement depends only on the change's kind, table and column names: render it once
    # per shape instead of composing it again for each of (perhaps) millions of events.
    target = sql.Identifier(table)
    if kind == "delete":
        return sql.SQL("DELETE FROM {} WHERE {}").format(target, _where(key)).as_string()
    if kind == "redact":
        # An erasure: personal text becomes the marker, except NULL and what the system wrote.
        sets = sql.SQL(", ").join(
            sql.SQL(
                "{0} = CASE WHEN {0} IS NULL OR {0} = ANY(%(keep)s::text[]) "
                "THEN {0} ELSE %(marker)s END"
            ).format(sql.Identifier(c))
            for c in values
        )
        return sql.SQL("UPDATE {} SET {} WHERE {}").format(target, sets, _where(key)).as_string()
    if kind == "update":
        sets = sql.SQL(", ").join(
            (
                sql.SQL("{0} = coalesce({0}, '{{}}'::jsonb) || {1}")
                if k in merge
                else sql.SQL("{0} = {1}")
            ).format(sql.Identifier(k), sql.Placeholder(f"v_{k}"))
            for k in values
        )
        return sql.SQL("UPDATE {} SET {} WHERE {}").format(target, sets, _where(key)).as_string()
    placeholders = [
        *(sql.Placeholder(f"k_{k}") for k in key),
        *(sql.Placeholder(f"v_{k}") for k in values),
    ]
    return upsert_sql(target, key, values, sql.SQL("({})").format(sql.SQL(", ").join(placeholders)))


def upsert_sql(target: sql.Identifier, key: Names, values: Names, rows: sql.Composable) -> str:
    """INSERT of `rows` (a VALUES list) into `target`; on a conflict of `key`, set `values`."""
    on_conflict = (
        sql.SQL("DO UPDATE SET ")
        + sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(k)) for k in values
        )
        if values
        else sql.SQL("DO NOTHING")
    )
    return (
        sql.SQL("INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) {}")
        .format(
            target,
            sql.SQL(", ").join(map(sql.Identifier, (*key, *values))),
            rows,
            sql.SQL(", ").join(map(sql.Identifier, key)),
            on_conflict,
        )
        .as_string()
    )


def statement(change: Change, table: str | None = None) -> str:
    """The SQL that makes `change`, on `table` instead of the change's own when given (the
    rebuild's shadow of it). The one rendering of every kind of change, live or rebuilt."""
    values: Names
    if isinstance(change, Redact):
        values = change.columns
    else:
        values = () if isinstance(change, Delete) else tuple(change.values)
    merge: Names = tuple(sorted(change.merge)) if isinstance(change, Update) else ()
    kind = type(change).__name__.lower()
    return _render(kind, table or change.table, tuple(change.key), values, merge)


def apply_changes(
    curs: Cursor[Any], changes: Iterable[Change], into: Callable[[str], str] | None = None
) -> None:
    """Make the changes, on the tables `into` names for each change's table when given."""
    for change in changes:
        table = into(change.table) if into else None
        curs.execute(statement(change, table), bind_params(change))


class PostgresRowView(AnnouncedTracking, RowView):
    """The direct path (event store → projection). It records each aggregate's applied
    version too, so the Kafka path can take over from where this one stopped."""

    def apply(
        self,
        changes: Sequence[Change],
        tracking: Tracking,
        identity: tuple[UUID, int] | None = None,
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            apply_changes(curs, changes)
            if identity is not None:
                curs.execute(
                    "INSERT INTO projection_versions VALUES (%s, %s, %s) "
                    "ON CONFLICT (projection, aggregate_id) DO UPDATE SET version = "
                    "GREATEST(projection_versions.version, EXCLUDED.version)",
                    (self.projection, *identity),
                )
            self._insert_tracking(curs, tracking)
