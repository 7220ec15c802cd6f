"""Provider performance's measures from other capabilities (issue 14) on PostgreSQL, with
hand-computed expectations: the rating from patients' feedback events, the waitlist's fill rate
and median time to fill (its own read model's definitions), reminder delivery rates and the
no-show rate with vs without a delivered reminder (notification delivery records).

Period [1 Mar, 8 Mar 2027) UTC; previous [22 Feb, 1 Mar). Dr A (cardiology): n1 2 Mar 09
(no-show), v1 2 Mar 10 (completed, rated 4), v2 3 Mar 09 (completed, rated 5), c1 3 Mar 10
(cancelled). Dr B (cardiology): b1 2 Mar 09 (completed, rated 2).
Reminders of A's appointments: n1 delivered; v1 failed (and a delivered confirmation, not a
reminder); v2 sent, skipped and planned; c1 delivered. Attempted 4 (n1, v1, v2 sent, c1),
delivered 2: 0.5. Due 3 (n1, v1, v2): with a delivered reminder n1 (1 due, 1 no-show: 1.0),
without v1, v2 (2 due, 0 no-shows: 0.0). B has no reminders: null rates, 1 due without.
Waitlist openings of A: s4 released 2 Mar 12:00 and filled by an offer accepted at 12:20
(1200 s); s2 unblocked 4 Mar 08:00, not filled; s2 released by a declined waitlist offer
(the same seat passed on, not counted) and s1 created (not freed): freed 2, filled 1, 0.5,
median 1200 s. Previous period: s1 released 26 Feb 09:00, filled at 10:00: 1 of 1, 3600 s.
B: one release on 2 Mar, never filled: 0 of 1, no median."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CancelAppointment, MarkNoShow
from commands.directory.messages import ProviderProfile, RegisterProvider
from commands.feedback.messages import RateVisit
from commands.scheduling import Scheduling
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from infra.postgres.read_models.waitlist import PostgresWaitlistQueries
from projections.performance_queries import ProviderPerformance
from tests.builders import as_patient, as_staff, book, create_slot, register_patient
from tests.fakes import FixedClock
from tests.integration.analytics_support import (  # noqa: F401 - march_clock is the clock fixture
    FROM,
    TO,
    at,
    march_clock,
    played_and_projected,
    visit,
)

D = Decimal


def provider(app: Scheduling, name: str) -> UUID:
    profile = ProviderProfile(name=name, time_zone="UTC", specializations=["cardiology"])
    return app.register_provider(RegisterProvider(profile=profile), as_staff()).id


def rated_visit(
    app: Scheduling, clock: FixedClock, booked: tuple[UUID, UUID], start: datetime, rating: int
) -> UUID:
    patient, appointment = booked
    visit(app, clock, appointment, start)
    app.rate_visit(RateVisit(appointment_id=appointment, rating=rating), as_patient(patient))
    return appointment


def booked(app: Scheduling, slot: UUID) -> tuple[UUID, UUID]:
    patient = register_patient(app)
    return patient, book(app, slot, patient).id


def play(app: Scheduling, clock: FixedClock) -> dict[str, UUID]:
    a, b = provider(app, "Dr A"), provider(app, "Dr B")
    slots = {
        "s1": create_slot(app, a, at(2, 9), 60),
        "s2": create_slot(app, a, at(2, 10), 60),
        "s3": create_slot(app, a, at(3, 9), 60),
        "s4": create_slot(app, a, at(3, 10), 60),
        "sb": create_slot(app, b, at(2, 9), 60),
    }
    seats = {name: booked(app, slot) for name, slot in slots.items()}
    n1, c1 = seats["s1"][1], seats["s4"][1]
    app.cancel(CancelAppointment(appointment_id=c1, reason="ill"), as_staff())
    rated_visit(app, clock, seats["sb"], at(2, 9), 2)
    clock.set(at(2, 9, 20))
    app.mark_no_show(MarkNoShow(appointment_id=n1), as_staff())
    v1 = rated_visit(app, clock, seats["s2"], at(2, 10), 4)
    v2 = rated_visit(app, clock, seats["s3"], at(3, 9), 5)
    return {"a": a, "b": b, "n1": n1, "v1": v1, "v2": v2, "c1": c1, **slots}


DELIVERIES = """INSERT INTO notification_deliveries
    (id, dedupe_key, patient_id, appointment_id, kind, category, channel, due_at, status,
     created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 'reminders', 'email', %s, %s, %s, %s)"""
OPENING = """INSERT INTO waitlist_openings (id, slot_id, kind, reason, freed_at)
    VALUES (%s, %s, %s, %s, %s)"""
OFFER = """INSERT INTO rm_waitlist_offers (offer_id, entry_id, patient_id, provider_id, slot_id,
    appointment_id, slot_start, offered_at, expires_at, status, recorded_at, answer_recorded_at,
    rank) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""


def record_outcomes(database: Database, ids: dict[str, UUID]) -> None:
    """What the notification workers and the waitlist projection would have written."""
    deliveries = [
        ("n1", "reminder_1440m", "delivered"),
        ("v1", "reminder_1440m", "failed"),
        ("v1", "confirmation", "delivered"),
        ("v2", "reminder_1440m", "sent"),
        ("v2", "reminder_120m", "skipped"),
        ("v2", "reminder_60m", "planned"),
        ("c1", "reminder_1440m", "delivered"),
    ]
    created = at(20, 10, month=2)
    with psycopg.connect(database.conninfo) as conn:
        for appointment, kind, status in deliveries:
            conn.execute(
                DELIVERIES,
                (
                    *(uuid4(), f"{uuid4()}", uuid4(), ids[appointment], kind, created, status),
                    *(created, created),
                ),
            )
        for slot, provider_id in (("s1", "a"), ("s2", "a"), ("s4", "a"), ("sb", "b")):
            conn.execute(
                "INSERT INTO waitlist_slots VALUES (%s, %s, %s, %s)",
                (ids[slot], ids[provider_id], at(2, 9), ["in_person"]),
            )
        openings = [
            ("s4", "released", "cancelled", at(2, 12)),
            ("s2", "unblocked", None, at(4, 8)),
            ("s2", "released", "waitlist declined", at(4, 9)),
            ("s1", "created", None, at(2, 7)),
            ("s1", "released", "cancelled", at(26, 9, month=2)),
            ("sb", "released", "cancelled", at(2, 8)),
        ]
        for n, (slot, kind, reason, freed) in enumerate(openings):
            conn.execute(OPENING, (f"{ids[slot]}/{n}", ids[slot], kind, reason, freed))
        for slot, recorded, answered in (
            ("s4", at(2, 12, 5), at(2, 12, 20)),
            ("s1", at(26, 9, 30, month=2), at(26, 10, month=2)),
        ):
            conn.execute(
                OFFER,
                (
                    *(uuid4(), uuid4(), uuid4(), ids["a"], ids[slot], uuid4(), at(3, 10)),
                    *(recorded, at(9, 0), "accepted", recorded, answered, Jsonb({})),
                ),
            )
        conn.commit()


@pytest.fixture(scope="module")
def ids(
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
    clock: FixedClock,
    database: Database,
) -> Iterator[dict[str, UUID]]:
    with played_and_projected(store_env, scheduling_class, clock, play) as played:
        record_outcomes(database, played)
        yield played


@pytest.fixture(scope="module")
def analytics(database: Database, ids: dict[str, UUID]) -> Iterator[PostgresAnalyticsQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as pool:
        yield PostgresAnalyticsQueries(pool)


def of(analytics: PostgresAnalyticsQueries, provider_id: UUID) -> ProviderPerformance:
    [found] = analytics.performance(FROM, TO, provider_id=provider_id).providers
    return found


def picked(figures: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(figures, n) for n in names}


def test_the_rating_is_the_average_of_patients_ratings_with_its_count(
    analytics: PostgresAnalyticsQueries, ids: dict[str, UUID]
) -> None:
    a, b = of(analytics, ids["a"]), of(analytics, ids["b"])
    assert (a.rating, a.rating_count) == (D("4.50"), 2)
    assert (b.rating, b.rating_count) == (D("2.00"), 1)


def test_reminder_delivery_and_no_shows_with_and_without_a_delivered_reminder(
    analytics: PostgresAnalyticsQueries, ids: dict[str, UUID]
) -> None:
    a, b = of(analytics, ids["a"]), of(analytics, ids["b"])
    names = (
        "reminders_attempted",
        "reminders_delivered",
        "reminder_delivery_rate",
        "due_with_reminder",
        "no_shows_with_reminder",
        "no_show_rate_with_reminder",
        "due_without_reminder",
        "no_shows_without_reminder",
        "no_show_rate_without_reminder",
    )
    assert picked(a.current, *names) == dict(
        zip(names, (4, 2, D("0.5000"), 1, 1, D("1.0000"), 2, 0, D("0.0000")), strict=True)
    )
    assert picked(b.current, *names) == dict(
        zip(names, (0, 0, None, 0, 0, None, 1, 0, D("0.0000")), strict=True)
    )
    assert a.peer_median is not None
    assert a.peer_median.reminder_delivery_rate == D("0.5000")  # B has none: not a zero
    assert a.peer_median.no_show_rate_with_reminder == D("1.0000")
    assert a.peer_median.no_show_rate_without_reminder == D("0.0000")


def test_waitlist_fill_rate_and_median_time_to_fill_follow_the_waitlists_definitions(
    analytics: PostgresAnalyticsQueries, ids: dict[str, UUID]
) -> None:
    a, b = of(analytics, ids["a"]), of(analytics, ids["b"])
    names = ("freed_seats", "filled_from_waitlist", "waitlist_fill_rate", "median_seconds_to_fill")
    assert picked(a.current, *names) == dict(
        zip(names, (2, 1, D("0.5000"), D("1200.0")), strict=True)
    )
    assert picked(a.previous, *names) == dict(
        zip(names, (1, 1, D("1.0000"), D("3600.0")), strict=True)
    )
    assert picked(b.current, *names) == dict(zip(names, (1, 0, D("0.0000"), None), strict=True))
    assert picked(b.previous, *names) == dict(zip(names, (0, 0, None, None), strict=True))
    assert a.peer_median is not None
    assert a.peer_median.waitlist_fill_rate == D("0.2500")


def test_the_waitlist_read_model_reports_the_same_fill_figures(
    database: Database, analytics: PostgresAnalyticsQueries, ids: dict[str, UUID]
) -> None:
    with ConnectionPool(database.conninfo, min_size=1, max_size=1, open=True) as pool:
        metrics = PostgresWaitlistQueries(pool).metrics(ids["a"], FROM, TO)
    a = of(analytics, ids["a"]).current
    assert (metrics.freed_seats, metrics.filled_from_waitlist) == (
        a.freed_seats,
        a.filled_from_waitlist,
    )
    assert metrics.median_seconds_to_fill == float(a.median_seconds_to_fill or 0)
