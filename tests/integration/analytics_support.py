"""Plays a scripted history, then runs the analytics projection to the log's head (issue 14's
measure tests share it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest
from eventsourcing.domain import CanCreateTimestamp
from eventsourcing.projection import ProjectionRunner

from commands.appointments.messages import CheckIn, CompleteAppointment, StartAppointment
from commands.scheduling import Scheduling
from infra.postgres.rows import PostgresRowView
from projections.analytics import AnalyticsProjection
from tests.builders import as_staff
from tests.fakes import FixedClock

WAIT = 10.0
T = TypeVar("T")
# The period of the provider-performance tests, and their clock.
FROM = datetime(2027, 3, 1, tzinfo=UTC)
TO = datetime(2027, 3, 8, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module", name="clock")
def march_clock() -> Iterator[FixedClock]:
    """Events stamped from 20 Feb 2027 10:00 UTC on, as the test sets the clock."""
    with events_stamped_by(FixedClock(at(20, 10, month=2))) as fixed:
        yield fixed


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


@contextmanager
def events_stamped_by(clock: FixedClock) -> Iterator[FixedClock]:
    """Event timestamps follow `clock` (eventsourcing's hook), so history is known to the
    minute."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CanCreateTimestamp, "create_timestamp", staticmethod(clock.now))
        yield clock


def visit(
    app: Scheduling, clock: FixedClock, appointment_id: UUID, start: datetime, **done: Any
) -> None:
    """Check in and start at `start`, complete 30 minutes later."""
    clock.set(start)
    app.check_in(CheckIn(appointment_id=appointment_id), as_staff())
    app.start(StartAppointment(appointment_id=appointment_id), as_staff())
    clock.set(start + timedelta(minutes=30))
    app.complete(CompleteAppointment(appointment_id=appointment_id, **done), as_staff())
