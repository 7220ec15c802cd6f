"""`slotwise projections rebuild video` rebuilds the video visits' plans and rooms from the event
store like the other projections: the same rows as the live projection, corrupted rows
repaired, `--diff` naming them, and the watermark moved to the rebuilt position."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from infra.postgres.database import Database, eventstore_env
from infra.postgres.server import PostgresLocation
from projections.video import TABLES, VideoProjection
from tests.builders import patient_registers
from tests.databases import checksums, database_of_its_own, project_live
from tests.keys import keyed_scheduling
from tests.video_support import drive_video_visit
from workers.cli import main


@pytest.fixture(scope="module")
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "video_rebuild") as fresh:
        env = eventstore_env(fresh, 2)
        with keyed_scheduling(fresh) as keyed:
            app = keyed(env)
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
            patient = patient_registers(app)
            for n in range(3):
                drive_video_visit(app, start + timedelta(days=n), patient)
            head = app.head_position()
            app.close()
            project_live(env, head, keyed, [VideoProjection])
        yield fresh


def query(db: Database, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(statement, params).fetchall()


def rebuild_video(db: Database, monkeypatch: pytest.MonkeyPatch, *options: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db.conninfo)
    monkeypatch.setenv("SLOTWISE_MODE", "test")
    main(["projections", "rebuild", "video", *options])


def test_rebuilding_video_gives_the_live_rows_and_repairs_corrupted_ones(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = checksums(db.conninfo, TABLES)
    assert query(db, "SELECT count(*) FROM rm_video_participants")[0][0] == 6
    assert (
        query(db, "SELECT count(*) FROM rm_video_recordings WHERE stopped_at IS NOT NULL")[0][0]
        == 3
    )
    head = query(db, "SELECT max(notification_id) FROM slotwise_events")[0][0]

    rebuild_video(db, monkeypatch)
    assert checksums(db.conninfo, TABLES) == live
    tracking = "SELECT notification_id FROM video_tracking WHERE application_name = 'Slotwise'"
    assert query(db, tracking) == [(head,)]

    query(db, "UPDATE rm_video_rooms SET status = 'corrupted' RETURNING 1")
    query(db, "DELETE FROM rm_video_participants WHERE role = 'provider' RETURNING 1")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        rebuild_video(db, monkeypatch, "--diff")
    assert "2 table(s) of video differ" in str(exited.value.code)
    out = capsys.readouterr().out
    assert "rm_video_rooms: 3 row(s) only in live, 3 only in rebuild" in out
    assert "rm_video_participants: 0 row(s) only in live, 3 only in rebuild" in out

    rebuild_video(db, monkeypatch)
    assert checksums(db.conninfo, TABLES) == live
