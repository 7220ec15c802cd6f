"""Databases of a test's own: fresh ones (optionally cloned from a template database that holds
a prepared event log and read model), and checksums of their read-model tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import psycopg
from eventsourcing.projection import ProjectionRunner
from psycopg import sql

from commands.scheduling import Scheduling
from infra.postgres.database import Database, prepare
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation, create_database, drop_database
from projections.analytics import AnalyticsProjection
from projections.changes import RowProjection
from projections.scheduling import SchedulingProjection


def fresh_database(
    location: PostgresLocation, label: str, template: Database | None = None
) -> Database:
    """A new database with the read-model schema, or a copy of `template` (which must have no
    open connections)."""
    name = f"slotwise_{label}_{uuid.uuid4().hex[:10]}"
    if template is None:
        create_database(location.conninfo, name)
        db = Database(location, name)
        try:
            prepare(db)
        except BaseException:
            drop_database(location.conninfo, name)
            raise
        return db
    with psycopg.connect(location.conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template.dbname)
            )
        )
    return Database(location, name)


@contextmanager
def database_of_its_own(
    location: PostgresLocation, label: str, template: Database | None = None
) -> Iterator[Database]:
    db = fresh_database(location, label, template)
    try:
        yield db
    finally:
        drop_database(location.conninfo, db.dbname)


def checksums(conninfo: str, tables: Iterable[str]) -> dict[str, str]:
    """An md5 of every row of each table, in a stable order."""
    with psycopg.connect(conninfo) as conn:
        sums = {}
        for table in tables:
            row = conn.execute(
                sql.SQL(
                    "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()
            assert row is not None
            sums[table] = str(row[0])
        return sums


def project_live(
    env: dict[str, str],
    head: int,
    app_class: type[Scheduling],
    projections: Sequence[type[RowProjection]] = (SchedulingProjection, AnalyticsProjection),
) -> None:
    """Project the log into the live tables as the running workers do, one event at a time
    (`app_class`: the Scheduling class bound to the database's personal-data keys)."""
    for projection in projections:
        with ProjectionRunner(
            application_class=app_class,
            projection_class=projection,
            view_class=PostgresRowView,
            env=env,
        ) as runner:
            runner.wait(head, timeout=30)
        view = runner.view
        assert isinstance(view, PostgresRowView)
        view.datastore.close()  # the runner leaves its view's pool open
