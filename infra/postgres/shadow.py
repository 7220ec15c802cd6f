"""Shadow copies of a projection's tables: built beside the live ones, compared with them, and
swapped in by renaming inside the caller's transaction.

A swapped-in table takes over the live table's index names, and views over the live tables are
re-pointed at the new ones, so the next rebuild finds the schema exactly as the migrations left
it (and no name is taken twice)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

Conn = psycopg.Connection[Any]


def shadow_of(table: str) -> str:
    return f"{table}__shadow"


def old_of(table: str) -> str:
    return f"{table}__old"


def shadow_versions_of(projection: str) -> str:
    return f"{projection}__shadow_versions"


def drop_shadows(conn: Conn, projection: str, tables: Sequence[str]) -> None:
    """Drop what an earlier (perhaps interrupted) rebuild may have left: shadows, old tables."""
    names = [*(shadow_of(t) for t in tables), *(old_of(t) for t in tables)]
    names.append(shadow_versions_of(projection))
    conn.execute(
        sql.SQL("DROP TABLE IF EXISTS {}").format(
            sql.SQL(", ").join(sql.Identifier(n) for n in names)
        )
    )


def create_shadows(conn: Conn, projection: str, tables: Sequence[str]) -> None:
    for table in tables:
        conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                sql.Identifier(shadow_of(table)), sql.Identifier(table)
            )
        )
    conn.execute(
        sql.SQL("CREATE TABLE {} (aggregate_id uuid PRIMARY KEY, version integer NOT NULL)").format(
            sql.Identifier(shadow_versions_of(projection))
        )
    )


def _indexes(conn: Conn, table: str) -> list[tuple[str, tuple[bool, str]]]:
    """(name, shape) of each index on `table`; the shape leaves out index and table names."""
    rows = conn.execute(
        "SELECT c.relname, i.indisunique, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) ORDER BY c.relname",
        (table,),
    ).fetchall()
    return [(name, (unique, str(d).split(" USING ", 1)[1])) for name, unique, d in rows]


def _index_renames(conn: Conn, table: str) -> list[tuple[str, str]]:
    """Pairs (shadow index, live index) of the same shape, so the shadow can take the names."""
    live: dict[tuple[bool, str], list[str]] = {}
    for name, shape in _indexes(conn, table):
        live.setdefault(shape, []).append(name)
    pairs = []
    for name, shape in _indexes(conn, shadow_of(table)):
        if live.get(shape):
            pairs.append((name, live[shape].pop(0)))
    return pairs


def _dependent_views(conn: Conn, tables: Sequence[str]) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid), v.oid "
        "FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
        "JOIN pg_class v ON v.oid = r.ev_class "
        "WHERE d.classid = 'pg_rewrite'::regclass AND v.relkind = 'v' "
        "AND d.refobjid = ANY(%s::regclass[]) AND v.oid <> d.refobjid ORDER BY v.oid",
        (list(tables),),
    ).fetchall()
    return [(str(name), str(body).strip().rstrip(";")) for name, body, _ in rows]


def swap_in(conn: Conn, tables: Sequence[str]) -> None:
    """Rename live → old and shadow → live, moving index names and views along. The caller
    holds ACCESS EXCLUSIVE locks on the live tables and commits."""
    views = _dependent_views(conn, tables)
    for table in tables:
        renames = _index_renames(conn, table)
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(table), sql.Identifier(old_of(table))
            )
        )
        for n, (_, live_index) in enumerate(renames):
            parked = f"{old_of(table)}_i{n}"
            _rename_index(conn, live_index, parked)
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(shadow_of(table)), sql.Identifier(table)
            )
        )
        for shadow_index, live_index in renames:
            _rename_index(conn, shadow_index, live_index)
        _rename_constraints(conn, table)
    for name, body in views:
        # The definition names the tables as they were resolved before the renames, so
        # re-creating it binds the view to the swapped-in tables (keeping its grants).
        conn.execute(
            sql.SQL("CREATE OR REPLACE VIEW {} AS {}").format(sql.SQL(name), sql.SQL(body))
        )


def _rename_index(conn: Conn, name: str, to: str) -> None:
    conn.execute(
        sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(name), sql.Identifier(to))
    )


def _rename_constraints(conn: Conn, table: str) -> None:
    """Constraints not backed by an index whose names were generated for the shadow (NOT
    NULL ones are named on PostgreSQL 18) take the live table's name again."""
    prefix = f"{shadow_of(table)}_"
    rows = conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) "
        "AND contype NOT IN ('p', 'u', 'x') AND starts_with(conname, %s)",
        (table, prefix),
    ).fetchall()
    for (name,) in rows:
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(table),
                sql.Identifier(name),
                sql.Identifier(f"{table}_{name.removeprefix(prefix)}"),
            )
        )


def analyze(conn: Conn, tables: Sequence[str]) -> None:
    """Planner statistics for the shadows, so queries plan well from the first one after the
    swap."""
    conn.execute(
        sql.SQL("ANALYZE {}").format(
            sql.SQL(", ").join(sql.Identifier(shadow_of(t)) for t in tables)
        )
    )


def drop_old(conn: Conn, tables: Sequence[str]) -> None:
    conn.execute(
        sql.SQL("DROP TABLE IF EXISTS {}").format(
            sql.SQL(", ").join(sql.Identifier(old_of(t)) for t in tables)
        )
    )


@dataclass(frozen=True)
class TableDiff:
    table: str
    only_live: int
    only_shadow: int
    live_samples: list[dict[str, Any]]
    shadow_samples: list[dict[str, Any]]

    @property
    def differs(self) -> bool:
        return bool(self.only_live or self.only_shadow)


def diff(conn: Conn, tables: Sequence[str], samples: int = 3) -> list[TableDiff]:
    """Rows of each live table missing from its shadow, and the other way round."""

    def minus(left: str, right: str) -> tuple[int, list[dict[str, Any]]]:
        rows = sql.SQL("SELECT * FROM {} EXCEPT SELECT * FROM {}").format(
            sql.Identifier(left), sql.Identifier(right)
        )
        count = conn.execute(sql.SQL("SELECT count(*) FROM ({}) x").format(rows)).fetchone()
        found = conn.execute(
            sql.SQL("SELECT to_jsonb(x) FROM ({}) x LIMIT %s").format(rows), (samples,)
        ).fetchall()
        return (int(count[0]) if count else 0), [r[0] for r in found]

    diffs = []
    for table in tables:
        only_live, live_samples = minus(table, shadow_of(table))
        only_shadow, shadow_samples = minus(shadow_of(table), table)
        diffs.append(TableDiff(table, only_live, only_shadow, live_samples, shadow_samples))
    return diffs


def replace_versions(conn: Conn, projection: str) -> None:
    """The projection's per-aggregate versions become the shadow's."""
    conn.execute("DELETE FROM projection_versions WHERE projection = %s", (projection,))
    conn.execute(
        sql.SQL(
            "INSERT INTO projection_versions (projection, aggregate_id, version) "
            "SELECT %s, aggregate_id, version FROM {}"
        ).format(sql.Identifier(shadow_versions_of(projection))),
        (projection,),
    )


def record_versions(cur: psycopg.Cursor[Any], projection: str, versions: Mapping[Any, int]) -> None:
    if versions:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {0} VALUES (%s, %s) ON CONFLICT (aggregate_id) DO UPDATE "
                "SET version = GREATEST({0}.version, EXCLUDED.version)"
            ).format(sql.Identifier(shadow_versions_of(projection))),
            list(versions.items()),
        )
