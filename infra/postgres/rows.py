"""The PostgreSQL side of projections: applies row changes and the tracking position in one
transaction, so a restart neither loses nor double-applies an event."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import Cursor, sql
from psycopg.types.json import Jsonb

from projections.changes import Change, Delete, Redact, RowView, Update


def _json_default(value: object) -> str:
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def _adapt(value: Any) -> Any:
    if isinstance(value, dict):
        return Jsonb(value, dumps=lambda v: json.dumps(v, default=_json_default))
    return value


def _where(key: dict[str, Any]) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(f"k_{k}")) for k in key
    )


def bind_params(change: Change) -> dict[str, Any]:
    params = {f"k_{k}": v for k, v in change.key.items()}
    if isinstance(change, Redact):
        params.update({"marker": change.marker, "keep": list(change.keep)})
    elif not isinstance(change, Delete):
        params.update({f"v_{k}": _adapt(v) for k, v in change.values.items()})
    return params


def statement(change: Change) -> sql.Composed:
    table = sql.Identifier(change.table)
    if isinstance(change, Delete):
        return sql.SQL("DELETE FROM {} WHERE {}").format(table, _where(change.key))
    if isinstance(change, Redact):
        sets = sql.SQL(", ").join(
            sql.SQL(
                "{0} = CASE WHEN {0} IS NULL OR {0} = ANY(%(keep)s::text[]) "
                "THEN {0} ELSE %(marker)s END"
            ).format(sql.Identifier(c))
            for c in change.columns
        )
        return sql.SQL("UPDATE {} SET {} WHERE {}").format(table, sets, _where(change.key))
    if isinstance(change, Update):
        sets = sql.SQL(", ").join(
            (
                sql.SQL("{0} = coalesce({0}, '{{}}'::jsonb) || {1}")
                if k in change.merge
                else sql.SQL("{0} = {1}")
            ).format(sql.Identifier(k), sql.Placeholder(f"v_{k}"))
            for k in change.values
        )
        return sql.SQL("UPDATE {} SET {} WHERE {}").format(table, sets, _where(change.key))
    columns = [*change.key, *change.values]
    placeholders = [
        *(sql.Placeholder(f"k_{k}") for k in change.key),
        *(sql.Placeholder(f"v_{k}") for k in change.values),
    ]
    on_conflict = (
        sql.SQL("DO UPDATE SET ")
        + sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(k)) for k in change.values
        )
        if change.values
        else sql.SQL("DO NOTHING")
    )
    return sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {}").format(
        table,
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(placeholders),
        sql.SQL(", ").join(map(sql.Identifier, change.key)),
        on_conflict,
    )


def apply_changes(curs: Cursor[Any], changes: Sequence[Change]) -> None:
    for change in changes:
        curs.execute(statement(change), bind_params(change))


class PostgresRowView(PostgresTrackingRecorder, RowView):
    """The direct path (event store → projection). It records each aggregate's applied
    version too, so the Kafka path can take over from where this one stopped."""

    @property
    def projection(self) -> str:
        return self.tracking_table_name.removesuffix("_tracking")

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
