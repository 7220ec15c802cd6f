"""Patient measures on PostgreSQL (issue 14), with hand-computed expectations. Period
[10 May, 17 May 2027); one UTC provider; visits are completed appointments at their start.

p1 visits on 3 May (before) and 11 May: returning; seen again on 20 May (9 days later).
p2 visits on 12 May only: new. p3 visits on 12 and 14 May: new, seen again 2 days later.
p4 is booked on 15 May and does not come: active, not seen. p5 is booked on 13 May and
cancels: not active. Seen 3, new 2, returning 1, active 4."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CancelAppointment, MarkNoShow
from commands.scheduling import Scheduling
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from tests.builders import as_staff, book, create_slot, register_patient, register_provider
from tests.fakes import FixedClock
from tests.integration.analytics_support import events_stamped_by, played_and_projected, visit

FROM = datetime(2027, 5, 10, tzinfo=UTC)
TO = datetime(2027, 5, 17, tzinfo=UTC)


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2027, 5, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def clock() -> Iterator[FixedClock]:
    with events_stamped_by(FixedClock(at(1, 8))) as fixed:
        yield fixed


def play(app: Scheduling, clock: FixedClock) -> UUID:
    provider = register_provider(app, "UTC")
    p1, p2, p3, p4, p5 = (register_patient(app) for _ in range(5))
    visits = [(p1, at(3)), (p1, at(11)), (p1, at(20)), (p2, at(12)), (p3, at(12, 10)), (p3, at(14))]
    booked = [(p, t, book(app, create_slot(app, provider, t), p).id) for p, t in visits]
    missed = book(app, create_slot(app, provider, at(15)), p4).id
    cancelled = book(app, create_slot(app, provider, at(13, 11)), p5).id
    app.cancel(CancelAppointment(appointment_id=cancelled, reason="x"), as_staff())
    for _, start, appointment_id in sorted(booked, key=lambda b: b[1]):
        visit(app, clock, appointment_id, start)
    clock.set(at(15, 9, 30))
    app.mark_no_show(MarkNoShow(appointment_id=missed), as_staff())
    return provider


@pytest.fixture(scope="module")
def provider_id(
    store_env: dict[str, str], scheduling_class: type[Scheduling], clock: FixedClock
) -> Iterator[UUID]:
    with played_and_projected(store_env, scheduling_class, clock, play) as played:
        yield played


@pytest.fixture(scope="module")
def analytics(database: Database, provider_id: UUID) -> Iterator[PostgresAnalyticsQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as pool:
        yield PostgresAnalyticsQueries(pool)


def counts(found: Any) -> tuple[int, int, int, int, int, Decimal | None]:
    return (
        found.seen,
        found.new,
        found.returning,
        found.active,
        found.retained,
        found.retention_rate,
    )


def test_new_returning_active_and_retention_within_30_days(
    analytics: PostgresAnalyticsQueries,
) -> None:
    found = analytics.patients(FROM, TO, 30)
    assert counts(found) == (3, 2, 1, 4, 2, Decimal("0.6667"))  # p1 and p3 came back
    assert found.retention_window_ends == datetime(2027, 6, 16, tzinfo=UTC)


def test_a_shorter_window_retains_fewer(analytics: PostgresAnalyticsQueries) -> None:
    assert counts(analytics.patients(FROM, TO, 5)) == (3, 2, 1, 4, 1, Decimal("0.3333"))


def test_the_next_week_sees_p1_again_as_returning(analytics: PostgresAnalyticsQueries) -> None:
    later = analytics.patients(TO, datetime(2027, 5, 24, tzinfo=UTC), 30)
    assert counts(later) == (1, 0, 1, 1, 0, Decimal("0.0000"))


def test_an_empty_period_is_zero_with_a_null_rate(
    analytics: PostgresAnalyticsQueries, provider_id: UUID
) -> None:
    empty = analytics.patients(
        datetime(2028, 1, 1, tzinfo=UTC), datetime(2028, 1, 8, tzinfo=UTC), 30
    )
    assert counts(empty) == (0, 0, 0, 0, 0, None)
    other = analytics.patients(FROM, TO, 30, provider_id=UUID(int=1))
    assert counts(other) == (0, 0, 0, 0, 0, None)
    assert counts(analytics.patients(FROM, TO, 30, provider_id=provider_id))[0] == 3
