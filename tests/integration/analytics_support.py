"""Plays a scripted history, then runs the analytics projection to the log's head (issue 14's
measure tests share it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from eventsourcing.projection import ProjectionRunner

from commands.scheduling import Scheduling
from infra.postgres.rows import PostgresRowView
from projections.analytics import AnalyticsProjection
from tests.fakes import FixedClock

WAIT = 10.0
T = TypeVar("T")


@contextmanager
def played_and_projected(
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
    clock: FixedClock,
    play: Callable[[Scheduling, FixedClock], T],
) -> Iterator[T]:
    app = scheduling_class(store_env, clock=clock)
    try:
        played = play(app, clock)
        with ProjectionRunner(
            application_class=scheduling_class,
            projection_class=AnalyticsProjection,
            view_class=PostgresRowView,
            env=store_env,
        ) as runner:
            runner.wait(app.head_position(), timeout=WAIT)
            yield played
    finally:
        app.close()
