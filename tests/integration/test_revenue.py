"""Revenue on PostgreSQL (issue 14): payments and refunds recorded as events, projected by the
analytics projection, summed per currency with hand-computed expectations.

Dr NY (America/New_York, cardiology) and Dr Berlin (Europe/Berlin, dermatology). The period is
[1 Nov, 8 Nov 2026) UTC; New York leaves summer time on 1 Nov, so both of A1's payments, at
00:30 EDT and 23:30 EST, fall on New York's 1 Nov though they are on two UTC days.

USD: A1 (in person) 100.00 card on 1 Nov 04:30Z and 50.00 cash on 2 Nov 04:30Z; A2 (video)
80.00 insurance on 3 Nov 15:00Z; the card payment refunded in full (100.00) on 3 Nov 16:00Z,
more than that day's payments. A3 paid 60.00 card on 28 Oct: the previous period.
EUR: B1 70.00 card on 2 Nov 23:30Z (3 Nov 00:30 in Berlin), 20.00 of it refunded on 4 Nov."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CancelAppointment
from commands.directory.messages import ProviderProfile, RegisterProvider, UpdateProvider
from commands.payments.messages import RecordPayment, RefundPayment, SetFeePolicy
from commands.scheduling import Scheduling
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from projections.revenue_queries import CurrencyRevenue, RevenueFigures, RevenueGrouping
from tests.builders import T0, as_staff, book, create_slot, register_patient
from tests.fakes import FixedClock
from tests.integration.analytics_support import played_and_projected

WAIT = 10.0
FROM = datetime(2026, 11, 1, tzinfo=UTC)
TO = datetime(2026, 11, 8, tzinfo=UTC)
D = Decimal


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Books:
    ny: UUID
    berlin: UUID
    appointments: dict[str, UUID]


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as opened:
        yield opened


def provider(app: Scheduling, name: str, zone: str, **profile: Any) -> UUID:
    command = RegisterProvider(profile=ProviderProfile(name=name, time_zone=zone, **profile))
    return app.register_provider(command, as_staff()).id


def play(app: Scheduling, clock: FixedClock) -> Books:
    ny = provider(
        app,
        "Dr NY",
        "America/New_York",
        specializations=["cardiology"],
        fee_amount=D("120.00"),
        fee_currency="USD",
    )
    berlin = provider(app, "Dr Berlin", "Europe/Berlin", specializations=["dermatology"])
    policy = SetFeePolicy(
        provider_id=ny, appointment_type="in_person", currency="USD", late_cancellation_fee=D("30")
    )
    app.set_fee_policy(policy, as_staff())

    def visit(provider_id: UUID, hours: int, kind: str = "in_person") -> UUID:
        slot = create_slot(app, provider_id, T0 + timedelta(hours=hours), appointment_types=[kind])
        return book(app, slot, register_patient(app), appointment_type=kind).id

    ids = {
        "a1": visit(ny, 2),
        "a2": visit(ny, 3, "video"),
        "a3": visit(ny, 4),
        "b1": visit(berlin, 2),
        "late": visit(ny, 5),
    }
    raised = ProviderProfile(fee_amount=D("150.00"))
    app.update_provider(UpdateProvider(provider_id=ny, profile=raised), as_staff())

    def pay(name: str, at: datetime, amount: str, currency: str, method: str) -> UUID:
        clock.set(at)
        command = RecordPayment(
            appointment_id=ids[name],
            amount=D(amount),
            currency=currency,
            method=method,  # type: ignore[arg-type]
            external_reference=f"ref-{name}-{method}",
        )
        return app.record_payment(command, as_staff()).id

    def refund(name: str, payment: UUID, at: datetime, amount: str | None) -> None:
        clock.set(at)
        command = RefundPayment(
            appointment_id=ids[name],
            payment_id=payment,
            amount=None if amount is None else D(amount),
            reason="patient_request",
        )
        app.refund_payment(command, as_staff())

    pay("a3", utc(10, 28, 12), "60.00", "USD", "card")
    card = pay("a1", utc(11, 1, 4, 30), "100.00", "USD", "card")
    pay("a1", utc(11, 2, 4, 30), "50.00", "USD", "cash")
    pay("a2", utc(11, 3, 15), "80.00", "USD", "insurance")
    refund("a1", card, utc(11, 3, 16), None)
    euros = pay("b1", utc(11, 2, 23, 30), "70.00", "EUR", "card")
    refund("b1", euros, utc(11, 4, 10), "20.00")
    clock.set(T0)
    app.cancel(CancelAppointment(appointment_id=ids["late"], reason="ill"), as_staff())
    return Books(ny, berlin, ids)


@pytest.fixture(scope="module")
def books(store_env: dict[str, str], scheduling_class: type[Scheduling]) -> Iterator[Books]:
    with played_and_projected(store_env, scheduling_class, FixedClock(T0), play) as played:
        yield played


@pytest.fixture(scope="module")
def analytics(pool: ConnectionPool[Any], books: Books) -> PostgresAnalyticsQueries:
    return PostgresAnalyticsQueries(pool)


def money(**values: Any) -> RevenueFigures:
    """Figures with amounts given as strings; counts default to zero, the average to null."""
    fields: dict[str, Any] = {
        "gross": D("0.00"),
        "refunds": D("0.00"),
        "payments": 0,
        "refund_count": 0,
        "paid_visits": 0,
        "average_per_paid_visit": None,
    }
    fields.update({k: D(v) if isinstance(v, str) else v for k, v in values.items()})
    fields["net"] = fields["gross"] - fields["refunds"]
    return RevenueFigures(**fields)


def currency(report: list[CurrencyRevenue], code: str) -> CurrencyRevenue:
    [found] = [c for c in report if c.currency == code]
    return found


def test_totals_are_per_currency_with_the_previous_period(
    analytics: PostgresAnalyticsQueries,
) -> None:
    report = analytics.revenue(FROM, TO, None)
    assert [c.currency for c in report.currencies] == ["EUR", "USD"]
    usd = currency(report.currencies, "USD")
    assert usd.totals == money(
        gross="230.00",
        refunds="100.00",
        payments=3,
        refund_count=1,
        paid_visits=2,
        average_per_paid_visit="65.00",  # net 130.00 over A1 and A2
    )
    assert usd.trend.previous == money(
        gross="60.00", payments=1, paid_visits=1, average_per_paid_visit="60.00"
    )
    assert usd.trend.gross_change == D("2.8333")  # (230 - 60) / 60
    assert usd.trend.net_change == D("1.1667")  # (130 - 60) / 60
    assert usd.trend.paid_visits_change == D("1.0000")
    eur = currency(report.currencies, "EUR")
    assert eur.totals == money(
        gross="70.00",
        refunds="20.00",
        payments=1,
        refund_count=1,
        paid_visits=1,
        average_per_paid_visit="50.00",
    )
    assert (eur.trend.gross_change, eur.trend.net_change) == (None, None)  # nothing before
    assert report.previous_from == datetime(2026, 10, 25, tzinfo=UTC)


def test_days_are_the_providers_own_across_the_dst_change(
    analytics: PostgresAnalyticsQueries,
) -> None:
    report = analytics.revenue(FROM, TO, RevenueGrouping.DAY)
    usd = currency(report.currencies, "USD").groups
    assert [(g.day, g.figures) for g in usd] == [
        (
            date(2026, 11, 1),
            money(gross="150.00", payments=2, paid_visits=1, average_per_paid_visit="150.00"),
        ),
        (
            date(2026, 11, 3),
            # refunds larger than the day's payments: the day's net is negative
            money(
                gross="80.00",
                refunds="100.00",
                payments=1,
                refund_count=1,
                paid_visits=1,
                average_per_paid_visit="-20.00",
            ),
        ),
    ]
    eur = currency(report.currencies, "EUR").groups
    assert [(g.day, g.figures) for g in eur] == [
        (
            date(2026, 11, 3),
            money(gross="70.00", payments=1, paid_visits=1, average_per_paid_visit="70.00"),
        ),
        (date(2026, 11, 4), money(refunds="20.00", refund_count=1)),  # no paid visit: null
    ]


def test_refunds_count_against_their_payments_method_and_service(
    analytics: PostgresAnalyticsQueries,
) -> None:
    by_method = currency(analytics.revenue(FROM, TO, RevenueGrouping.METHOD).currencies, "USD")
    assert {g.method: (g.figures.gross, g.figures.net) for g in by_method.groups} == {
        "card": (D("100.00"), D("0.00")),
        "cash": (D("50.00"), D("50.00")),
        "insurance": (D("80.00"), D("80.00")),
    }
    by_service = currency(analytics.revenue(FROM, TO, RevenueGrouping.SERVICE).currencies, "USD")
    assert {g.service: (g.figures.net, g.figures.paid_visits) for g in by_service.groups} == {
        "in_person": (D("50.00"), 1),
        "video": (D("80.00"), 1),
    }


def test_provider_and_specialty_groups_and_filters(
    analytics: PostgresAnalyticsQueries, books: Books
) -> None:
    by_specialty = analytics.revenue(FROM, TO, RevenueGrouping.SPECIALTY)
    assert [(c.currency, [g.specialty for g in c.groups]) for c in by_specialty.currencies] == [
        ("EUR", ["dermatology"]),
        ("USD", ["cardiology"]),
    ]
    by_provider = analytics.revenue(FROM, TO, RevenueGrouping.PROVIDER)
    usd = currency(by_provider.currencies, "USD").groups
    assert [(g.provider_id, g.provider_name, g.figures.net) for g in usd] == [
        (books.ny, "Dr NY", D("130.00"))
    ]
    berlin = analytics.revenue(FROM, TO, None, provider_id=books.berlin)
    assert [c.currency for c in berlin.currencies] == ["EUR"]
    cardiology = analytics.revenue(FROM, TO, None, specialty="cardiology")
    assert [c.currency for c in cardiology.currencies] == ["USD"]


def test_an_empty_period_has_no_currencies(analytics: PostgresAnalyticsQueries) -> None:
    empty = analytics.revenue(
        datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC), None
    )
    assert empty.currencies == []


def test_a_booking_keeps_the_fee_of_its_time_and_fees_are_projected(
    analytics: PostgresAnalyticsQueries, pool: ConnectionPool[Any], books: Books
) -> None:
    with pool.connection() as conn:
        fee = conn.execute(
            "SELECT fee_amount, fee_currency FROM an_appointment_facts WHERE id = %s",
            (books.appointments["a1"],),
        ).fetchone()
        fees = conn.execute("SELECT kind, amount, currency FROM an_fees").fetchall()
    assert fee == (D("120.00"), "USD")  # the provider charges 150.00 now
    assert fees == [("late_cancellation", D("30"), "USD")]
