"""Provider performance on PostgreSQL (issue 14), from events through the analytics projection,
with hand-computed expectations. Event times follow the test's clock (eventsourcing's
timestamp hook is pointed at it), so each slot's history is known to the minute.

Period [1 Mar, 8 Mar 2027) UTC; previous period [22 Feb, 1 Mar). Everything is recorded on
20 Feb unless said otherwise. Dr A (cardiology):
- s1 2 Mar 09-10, 1 seat, booked; marked a no-show at 09:20 (the seat is kept): 60 booked.
- s2 2 Mar 10-11, 2 seats, one booked then cancelled at 10:30 (late): 120 open, 30 booked.
- s3 3 Mar 09-10, blocked on 25 Feb and never unblocked: nothing open.
- s4 4 Mar 09-10, 1 seat + 1 overbooked, both completed (one with a follow-up): 60 open,
  120 booked.
- s5 5 Mar 09-10, 1 seat, blocked at 09:30: 30 open, nothing booked.
  Open 270, booked 210: utilization 0.7778.
- p 26 Feb 09-10, booked and completed: the previous period, utilization 1.
Dr B (cardiology): 2 Mar 09:00-09:30 booked and completed: utilization 1.
Dr C (dermatology): nothing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import (
    CancelAppointment,
    MarkNoShow,
)
from commands.directory.messages import ProviderProfile, RegisterProvider
from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from projections.performance_queries import PerformanceFigures, ProviderPerformance
from tests.builders import as_staff, book, create_slot, register_patient
from tests.fakes import FixedClock
from tests.integration.analytics_support import (  # noqa: F401 - march_clock is the clock fixture
    FROM,
    TO,
    at,
    march_clock,
    played_and_projected,
    visit,
)

WAIT = 10.0
D = Decimal


def provider(app: Scheduling, name: str, specialty: str) -> UUID:
    profile = ProviderProfile(name=name, time_zone="UTC", specializations=[specialty])
    return app.register_provider(RegisterProvider(profile=profile), as_staff()).id


def play(app: Scheduling, clock: FixedClock) -> dict[str, UUID]:
    a = provider(app, "Dr A", "cardiology")
    b = provider(app, "Dr B", "cardiology")
    c = provider(app, "Dr C", "dermatology")
    s1 = create_slot(app, a, at(2, 9), 60)
    s2 = create_slot(app, a, at(2, 10), 60, capacity=2)
    create_slot(app, a, at(3, 9), 60)
    s4 = create_slot(app, a, at(4, 9), 60, overbook_allowance=1)
    create_slot(app, a, at(5, 9), 60)
    sp = create_slot(app, a, at(26, 9, month=2), 60)
    sb = create_slot(app, b, at(2, 9), 30)
    no_show = book(app, s1, register_patient(app)).id
    cancelled = book(app, s2, register_patient(app)).id
    with_follow_up = book(app, s4, register_patient(app)).id
    overbooked = book(app, s4, register_patient(app), overbook=True).id
    earlier = book(app, sp, register_patient(app)).id
    at_b = book(app, sb, register_patient(app)).id

    clock.set(at(25, 8, month=2))
    app.block_window(
        BlockWindow(provider_id=a, start=at(3, 9), end=at(3, 10), reason="x"), as_staff()
    )
    visit(app, clock, earlier, at(26, 9, month=2))
    visit(app, clock, at_b, at(2, 9))
    clock.set(at(2, 9, 20))
    app.mark_no_show(MarkNoShow(appointment_id=no_show), as_staff())
    clock.set(at(2, 10, 30))
    app.cancel(CancelAppointment(appointment_id=cancelled, reason="ill"), as_staff())
    visit(app, clock, with_follow_up, at(4, 9), follow_up_requested=True)
    visit(app, clock, overbooked, at(4, 9))
    clock.set(at(5, 9, 30))
    app.block_window(
        BlockWindow(provider_id=a, start=at(5, 9), end=at(5, 10), reason="x"), as_staff()
    )
    return {"a": a, "b": b, "c": c}


@pytest.fixture(scope="module")
def providers(
    store_env: dict[str, str], scheduling_class: type[Scheduling], clock: FixedClock
) -> Iterator[dict[str, UUID]]:
    with played_and_projected(store_env, scheduling_class, clock, play) as played:
        yield played


@pytest.fixture(scope="module")
def analytics(database: Database, providers: dict[str, UUID]) -> Iterator[PostgresAnalyticsQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as pool:
        yield PostgresAnalyticsQueries(pool)


def figures(**values: Any) -> PerformanceFigures:
    """Figures with zero counts and null rates unless given; strings are decimals."""
    fields: dict[str, Any] = {
        name: (None if "rate" in name or name in {"utilization", "median_seconds_to_fill"} else 0)
        for name in PerformanceFigures.__struct_fields__
    }
    fields.update(open_seat_minutes=D("0.0"), booked_seat_minutes=D("0.0"))
    fields.update({k: D(v) if isinstance(v, str) else v for k, v in values.items()})
    return PerformanceFigures(**fields)


def of(report: list[ProviderPerformance], provider_id: UUID) -> ProviderPerformance:
    [found] = [p for p in report if p.provider_id == provider_id]
    return found


def test_utilization_is_weighted_by_the_time_each_slot_was_open_and_booked(
    analytics: PostgresAnalyticsQueries, providers: dict[str, UUID]
) -> None:
    a = of(analytics.performance(FROM, TO).providers, providers["a"])
    assert a.current == figures(
        open_seat_minutes="270.0",
        booked_seat_minutes="210.0",
        utilization="0.7778",
        booked=4,
        overbooked=1,
        overbooking_rate="0.2500",
        due=3,
        no_shows=1,
        no_show_rate="0.3333",
        cancelled=1,
        late_cancelled=1,
        late_cancellation_rate="1.0000",
        completed=2,
        follow_ups=1,
        follow_up_rate="0.5000",
        due_without_reminder=3,  # no reminder was delivered: every due visit is "without"
        no_shows_without_reminder=1,
        no_show_rate_without_reminder="0.3333",
    )
    assert a.previous == figures(
        open_seat_minutes="60.0",
        booked_seat_minutes="60.0",
        utilization="1.0000",
        booked=1,
        overbooking_rate="0.0000",
        due=1,
        no_show_rate="0.0000",
        completed=1,
        follow_up_rate="0.0000",
        due_without_reminder=1,
        no_show_rate_without_reminder="0.0000",
    )


def test_each_provider_stands_beside_the_median_of_their_specialty(
    analytics: PostgresAnalyticsQueries, providers: dict[str, UUID]
) -> None:
    report = analytics.performance(FROM, TO).providers
    a, b, c = (of(report, providers[k]) for k in "abc")
    assert a.peer_median == b.peer_median
    assert a.peer_median is not None
    assert (a.peer_median.peers, a.peer_median.utilization) == (2, D("0.8889"))
    assert a.peer_median.overbooking_rate == D("0.1250")
    assert a.peer_median.no_show_rate == D("0.1666")  # (0.3333 + 0) / 2, half to even
    assert a.peer_median.late_cancellation_rate == D("1.0000")  # only A has a cancellation
    assert a.peer_median.follow_up_rate == D("0.2500")
    assert b.current.utilization == D("1.0000")
    assert c.current == figures()  # nothing: zeros and null rates, never a made-up number
    assert c.peer_median is not None
    assert (c.peer_median.peers, c.peer_median.utilization) == (1, None)


def test_filters_pick_providers_but_medians_stay_over_all_peers(
    analytics: PostgresAnalyticsQueries, providers: dict[str, UUID]
) -> None:
    [b] = analytics.performance(FROM, TO, provider_id=providers["b"]).providers
    assert b.peer_median is not None
    assert b.peer_median.peers == 2
    dermatology = analytics.performance(FROM, TO, specialty="dermatology").providers
    assert [p.provider_id for p in dermatology] == [providers["c"]]
