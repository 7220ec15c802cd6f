"""Third-next-available on PostgreSQL (issue 14), as of a moment and as a daily series, from
each slot's recorded history. Event times follow the test's clock.

Dr A (Europe/Berlin, UTC+2 in April). Slots recorded on 1 Apr 08:00Z, all 09:00Z:
s1 5 Apr (1 seat), s2 6 Apr (2 seats), s3 8 Apr (1), s4 9 Apr (1, in person or video),
s5 10 Apr (1). s1 is booked on 2 Apr 10:00Z, one seat of s2 on 3 Apr 10:00Z, and s3 is blocked
on 4 Apr 10:00Z. Only s4 offers video."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow
from domain.errors import NotFoundError
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from projections.access_queries import AccessPoint
from tests.builders import as_staff, book, create_slot, register_patient, register_provider
from tests.fakes import FixedClock
from tests.integration.analytics_support import events_stamped_by, played_and_projected


def at(day: int, hour: int) -> datetime:
    return datetime(2027, 4, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def clock() -> Iterator[FixedClock]:
    with events_stamped_by(FixedClock(at(1, 8))) as fixed:
        yield fixed


def play(app: Scheduling, clock: FixedClock) -> UUID:
    a = register_provider(app, "Europe/Berlin")
    s1 = create_slot(app, a, at(5, 9))
    s2 = create_slot(app, a, at(6, 9), capacity=2)
    create_slot(app, a, at(8, 9))
    create_slot(app, a, at(9, 9), appointment_types=["in_person", "video"])
    create_slot(app, a, at(10, 9))
    clock.set(at(2, 10))
    book(app, s1, register_patient(app))
    clock.set(at(3, 10))
    book(app, s2, register_patient(app))
    clock.set(at(4, 10))
    app.block_window(
        BlockWindow(provider_id=a, start=at(8, 9), end=at(8, 10), reason="away"), as_staff()
    )
    return a


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


def test_as_of_a_moment_the_third_free_seat_counts_each_seat_of_a_slot(
    analytics: PostgresAnalyticsQueries, provider_id: UUID
) -> None:
    """On 4 Apr 12:00Z: s1 full, s2 one seat, s3 blocked, s4, s5: the third is s5."""
    report = analytics.access(at(4, 12), provider_id)
    assert [
        (r.appointment_type, r.third_available_at, r.days, r.free_seats) for r in report.rows
    ] == [
        ("in_person", at(10, 9), Decimal("5.9"), 3),  # 5 days 21 hours
        ("video", None, None, 1),  # only s4: fewer than three free seats
    ]


def point(day: int, third: datetime, days: str, free: int) -> AccessPoint:
    reference = datetime(2027, 4, day - 1, 22, tzinfo=UTC)  # midnight in Berlin
    return AccessPoint(
        day=date(2027, 4, day),
        reference=reference,
        third_available_at=third,
        days=Decimal(days),
        free_seats=free,
    )


def test_the_daily_series_measures_each_day_as_the_slots_were_then(
    analytics: PostgresAnalyticsQueries, provider_id: UUID
) -> None:
    series = analytics.access_series(provider_id, "in_person", date(2027, 4, 2), date(2027, 4, 5))
    assert series.time_zone == "Europe/Berlin"
    assert series.points == [
        point(2, at(6, 9), "4.5", 6),  # s1 free, then s2's two seats
        point(3, at(8, 9), "5.5", 5),  # s1 booked: s2, s2, s3
        point(4, at(9, 9), "5.5", 4),  # one seat of s2 booked: s2, s3, s4
        point(5, at(10, 9), "5.5", 3),  # s3 blocked: s2, s4, s5
    ]


def test_an_unknown_provider_has_no_series(analytics: PostgresAnalyticsQueries) -> None:
    with pytest.raises(NotFoundError):
        analytics.access_series(UUID(int=7), "in_person", date(2027, 4, 2), date(2027, 4, 3))


def test_before_any_slot_existed_there_is_nothing(
    analytics: PostgresAnalyticsQueries, provider_id: UUID
) -> None:
    rows: list[Any] = analytics.access(at(1, 7), provider_id).rows
    assert rows == []
