"""`slotwise audit reindex` on PostgreSQL: a log sealed before the audit index existed (its
index rows gone, as before migration 0011) gets exactly the rows the sealer writes, in batches
with progress; events not sealed yet stay out; a rerun has nothing to do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from infra.audit.wiring import seals
from infra.postgres.database import Database, eventstore_env
from infra.postgres.server import PostgresLocation
from projections.audit.sealing import CheckpointPolicy
from tests.audit_support import api_settings, fill, seal_to_end
from tests.builders import patient_registers
from tests.databases import database_of_its_own
from tests.keys import keyed_scheduling
from workers.cli import main

INDEX = ("audit_events", "audit_subjects")


@pytest.fixture
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "audit_reindex") as fresh:
        yield fresh


def rows(db: Database, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def test_reindex_writes_the_rows_the_sealer_would_have_for_events_sealed_before_the_index(
    db: Database,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = api_settings(db, tmp_path)
    with keyed_scheduling(db) as keyed:
        app = keyed(eventstore_env(db, 2))
        fill(app, 9)
        with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
            seal_to_end(seals(settings, app, pool), CheckpointPolicy(1000, 0))
        patient_registers(app)  # stored, not sealed: never indexed
        app.close()
    sealed = {table: rows(db, table) for table in INDEX}
    assert len(sealed["audit_events"]) > 40
    assert len(sealed["audit_subjects"]) >= 9
    with psycopg.connect(db.conninfo) as conn:
        # As before migration 0011: no index, but for a few rows a partial earlier run wrote.
        conn.execute("DELETE FROM audit_events WHERE position > 5")
        conn.execute(
            "DELETE FROM audit_subjects s WHERE NOT EXISTS (SELECT 1 FROM audit_events a "
            "WHERE a.aggregate_id = s.aggregate_id AND a.version = 1)"
        )
    monkeypatch.setenv("DATABASE_URL", db.conninfo)
    monkeypatch.setenv("SLOTWISE_MODE", "test")
    capsys.readouterr()

    main(["audit", "reindex", "--batch", "7"])

    err = capsys.readouterr().err
    missing = len(sealed["audit_events"]) - 5
    assert "indexing sealed events" in err
    assert f"{missing}/{missing}" in err
    assert f"indexed {missing} sealed event(s)" in err
    assert {table: rows(db, table) for table in INDEX} == sealed

    main(["audit", "reindex"])
    assert "the audit index is complete" in capsys.readouterr().err
    assert {table: rows(db, table) for table in INDEX} == sealed
