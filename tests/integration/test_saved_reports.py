"""Saved reports on PostgreSQL (issue 14): an analyst saves definitions, lists their own (never
another's), re-runs them against the analytics model and downloads CSV whose numbers are the
measures'. Two appointments on 24 Nov 2026 (UTC provider), one cancelled; a 30.00 EUR card
payment and a 12.50 EUR cash payment."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg_pool import ConnectionPool

from api.controllers.saved_reports import _run
from commands.appointments.messages import CancelAppointment
from commands.payments.messages import RecordPayment
from commands.reports.messages import SaveReport
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.errors import ForbiddenError, NotFoundError, ValidationError
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from projections.demographics_queries import Dimension
from projections.report_queries import csv_of
from tests.builders import T0, as_, as_staff, book, create_slot, register_patient, register_provider
from tests.fakes import FixedClock
from tests.integration.analytics_support import played_and_projected

ANALYST = Actor(uuid4(), Role.ANALYST)
OTHER = Actor(uuid4(), Role.ANALYST)
FROM = datetime(2026, 11, 23, tzinfo=UTC)
TO = datetime(2026, 11, 30, tzinfo=UTC)


def save(app: Scheduling, actor: Actor, **fields: Any) -> UUID:
    command = SaveReport(title="weekly", start_from=FROM, start_to=TO, **fields)
    return app.save_report(command, as_(actor)).id


def play(app: Scheduling, clock: FixedClock) -> dict[str, UUID]:
    provider = register_provider(app, "UTC")
    start = T0 + timedelta(days=1)
    kept = book(app, create_slot(app, provider, start), register_patient(app)).id
    gone = book(
        app, create_slot(app, provider, start + timedelta(hours=1)), register_patient(app)
    ).id
    app.cancel(CancelAppointment(appointment_id=gone, reason="x"), as_staff())
    for amount, method in (("30.00", "card"), ("12.50", "cash")):
        payment = RecordPayment(
            appointment_id=kept,
            amount=Decimal(amount),
            currency="EUR",
            method=method,  # type: ignore[arg-type]
            external_reference="ref-1",
        )
        app.record_payment(payment, as_staff())
    return {
        "by_day": save(app, ANALYST, measure="appointments", group_by="day"),
        "by_method": save(app, ANALYST, measure="revenue", group_by="method"),
        "others": save(app, OTHER, measure="appointments"),
        "performance": save(app, ANALYST, measure="performance"),
        "access": save(app, ANALYST, measure="access", provider_id=provider),
        "patients": save(app, ANALYST, measure="patients"),
        "demographics": save(app, ANALYST, measure="demographics", group_by="sex"),
        "provider": provider,
    }


@pytest.fixture(scope="module")
def reports(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[dict[str, UUID]]:
    with played_and_projected(store_env, scheduling_class, FixedClock(T0), play) as played:
        yield played


@pytest.fixture(scope="module")
def analytics(database: Database, reports: Any) -> Iterator[PostgresAnalyticsQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as pool:
        yield PostgresAnalyticsQueries(pool)


def test_an_analyst_lists_only_their_own_reports(
    analytics: PostgresAnalyticsQueries, reports: dict[str, UUID]
) -> None:
    mine = analytics.saved_reports(ANALYST.subject)
    assert [(r.id, r.measure, r.group_by) for r in mine] == [
        (reports["by_day"], "appointments", "day"),
        (reports["by_method"], "revenue", "method"),
        (reports["performance"], "performance", None),
        (reports["access"], "access", None),
        (reports["patients"], "patients", None),
        (reports["demographics"], "demographics", "sex"),
    ]
    assert analytics.saved_report(reports["others"], ANALYST.subject) is None
    with pytest.raises(NotFoundError):
        _run(analytics, ANALYST, reports["others"])


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_rerun_downloads_the_measures_as_csv(
    analytics: PostgresAnalyticsQueries, reports: dict[str, UUID]
) -> None:
    [day] = _csv(csv_of(_run(analytics, ANALYST, reports["by_day"])))
    assert (day["day"], day["appointments"], day["booked"], day["cancelled"]) == (
        "2026-11-24",
        "2",
        "2",
        "1",
    )
    assert day["cancellation_rate"] == "0.5000"
    assert day["completion_rate"] == ""  # null: nothing was due
    methods = _csv(csv_of(_run(analytics, ANALYST, reports["by_method"])))
    assert [(m["currency"], m["method"], m["gross"], m["paid_visits"]) for m in methods] == [
        ("EUR", "card", "30.00", "1"),
        ("EUR", "cash", "12.50", "1"),
    ]


def test_only_analysts_save_and_groupings_must_fit_the_measure(app: Scheduling) -> None:
    with pytest.raises(ForbiddenError):
        save(app, Actor(uuid4(), Role.STAFF), measure="appointments")
    with pytest.raises(ValidationError):
        save(app, ANALYST, measure="appointments", group_by="method")
    with pytest.raises(ValidationError, match="cannot be grouped"):
        save(app, ANALYST, measure="performance", group_by="day")
    with pytest.raises(ValidationError, match="demographics need group_by"):
        save(app, ANALYST, measure="demographics")
    with pytest.raises(ValidationError):
        app.save_report(
            SaveReport(title="x", measure="revenue", start_from=TO, start_to=FROM), as_(ANALYST)
        )


def test_performance_access_patients_and_demographics_reports_rerun_their_measures(
    analytics: PostgresAnalyticsQueries, reports: dict[str, UUID]
) -> None:
    performance = _run(analytics, ANALYST, reports["performance"])
    assert performance.performance == analytics.performance(FROM, TO)
    [row] = _csv(csv_of(performance))
    assert row["provider_id"] == str(reports["provider"])
    assert (row["current_booked"], row["current_cancelled"], row["previous_booked"]) == (
        "2",
        "1",
        "0",
    )
    assert (row["rating"], row["rating_count"], row["current_no_show_rate"]) == ("", "0", "")
    access = _run(analytics, ANALYST, reports["access"])
    assert access.access == analytics.access(FROM, reports["provider"])
    patients = _run(analytics, ANALYST, reports["patients"])
    assert patients.patients == analytics.patients(FROM, TO, 90)
    [figures] = _csv(csv_of(patients))
    assert (figures["seen"], figures["active"], figures["retention_rate"]) == ("0", "1", "")


def test_a_demographics_report_keeps_its_suppression_in_the_csv(
    analytics: PostgresAnalyticsQueries, reports: dict[str, UUID]
) -> None:
    run = _run(analytics, ANALYST, reports["demographics"])
    assert run.demographics == analytics.demographics(FROM, TO, Dimension.SEX)
    assert _csv(csv_of(run)) == [
        {"dimension": "sex", "value": "total", "patients": "0", "suppressed": "False"}
    ]
