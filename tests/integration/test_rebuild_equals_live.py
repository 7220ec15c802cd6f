"""A rebuild equals the live projection for every kind of event the row projections handle
(their handler registries name them, so a new handler is covered once tests/every_event.py
records its event), partial provider profile and patient details updates included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import psycopg
import pytest

from commands.scheduling import Scheduling
from domain.personal import ERASED
from infra.postgres.database import Database, eventstore_env
from infra.postgres.rebuild import PROJECTIONS, rebuild
from infra.postgres.server import PostgresLocation
from projections.analytics import AnalyticsProjection
from projections.scheduling import SchedulingProjection
from tests.builders import all_events
from tests.databases import database_of_its_own, project_live
from tests.every_event import drive_every_event, every_event_clock
from tests.keys import keyed_scheduling

ROW_PROJECTIONS = {p.name: p for p in (SchedulingProjection, AnalyticsProjection)}
# Rebuilt projections checked against their live handlers by a test of their own: the video
# visits' plans and rooms need rooms opened by the room policy, which every_event.py does not run.
CHECKED_ELSEWHERE = {"video": "tests/integration/test_video_rebuild.py"}

Logged = tuple[Database, set[type[Any]], type[Scheduling]]


def query(db: Database, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(statement).fetchall()


@pytest.fixture(scope="module")
def every_event(pg_location: PostgresLocation) -> Iterator[Logged]:
    """A log with every kind of event the projections handle, projected live; the event
    classes it holds; and the Scheduling class bound to its personal-data keys."""
    with (
        database_of_its_own(pg_location, "rebuild_every_event") as db,
        keyed_scheduling(db) as keyed,
    ):
        env = eventstore_env(db, 2)
        clock = every_event_clock()
        app = keyed(env, clock=clock)
        try:
            drive_every_event(app, clock)
            recorded = {type(e) for e in all_events(app)}
            head = app.head_position()
        finally:
            app.close()
        project_live(env, head, keyed)
        yield db, recorded, keyed


def test_every_rebuilt_projection_is_checked_against_its_live_handlers() -> None:
    assert set(ROW_PROJECTIONS) | set(CHECKED_ELSEWHERE) == set(PROJECTIONS)
    assert not set(ROW_PROJECTIONS) & set(CHECKED_ELSEWHERE)


@pytest.mark.parametrize("name", sorted(ROW_PROJECTIONS))
def test_a_rebuild_equals_the_live_projection_for_every_event_it_handles(
    every_event: Logged, name: str
) -> None:
    db, recorded, keyed = every_event
    handled = set(ROW_PROJECTIONS[name].handlers)
    missing = sorted(c.__qualname__ for c in handled - recorded)
    assert missing == [], f"tests/every_event.py records no {missing}: add a command for each"
    with closing(keyed(eventstore_env(db, 2))) as log:
        outcome = rebuild(db.conninfo, log, name, diff=True)

    differing = [(d.table, d.live_samples, d.shadow_samples) for d in outcome.diffs if d.differs]
    assert differing == []
    assert outcome.events == log_head(db)


def test_partial_directory_updates_are_merged_alike_live_and_rebuilt(
    every_event: Logged,
) -> None:
    db, _, keyed = every_event
    live = directory_rows(db)
    with closing(keyed(eventstore_env(db, 2))) as log:
        diffs = rebuild(db.conninfo, log, "scheduling", diff=True).diffs

    (profile,) = (row[0] for row in live["rm_providers"])
    assert profile == {
        "name": "Dr P Q",
        "time_zone": "Europe/Berlin",
        "specializations": ["cardiology", "sports medicine"],
        "bio": "updated",
        "accepting_new_patients": False,
        "fee_amount": "80.00",
        "fee_currency": "EUR",
        "languages": ["de"],
    }
    # Merged, then erased: the name is the marker, the clear time zone kept.
    assert live["rm_patients"] == [(ERASED, "Europe/Berlin")]
    assert not any(d.differs for d in diffs if d.table in ("rm_providers", "rm_patients"))


def log_head(db: Database) -> int:
    return int(query(db, "SELECT max(notification_id) FROM slotwise_events")[0][0])


def directory_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "rm_providers": query(db, "SELECT profile FROM rm_providers"),
        "rm_patients": query(db, "SELECT name, time_zone FROM rm_patients"),
    }
