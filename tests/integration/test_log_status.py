"""`slotwise projections status` and the API's /metrics: where each projection and the relay
stand against the head of the log, read from a database of the test's own."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner
from litestar.testing import TestClient
from psycopg_pool import ConnectionPool

from api.app import create_app
from api.deps import Services
from commands.ports import SystemClock
from commands.scheduling import Scheduling
from infra.postgres.access import PostgresAccessLog
from infra.postgres.database import Database, eventstore_env
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.rows import PostgresRowView
from infra.postgres.search.backend import PostgresSearch
from infra.postgres.server import PostgresLocation
from infra.postgres.status import PostgresStatus
from infra.settings import Settings
from projections.audit.access import AccessRecord
from projections.scheduling import SchedulingProjection
from tests.builders import (
    register_patient,
    register_provider,
)
from tests.databases import database_of_its_own
from tests.fakes import FixedPositions
from tests.keys import keyed_scheduling
from workers.cli import main


@pytest.fixture
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "status") as fresh:
        yield fresh


@pytest.fixture
def log(db: Database) -> Iterator[Scheduling]:
    with keyed_scheduling(db) as keyed:
        app = keyed(eventstore_env(db, 2))  # the system clock: events are stamped now
        try:
            yield app
        finally:
            app.close()


def execute(db: Database, statement: str, *params: Any) -> None:
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(statement, params)


def status_json(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    monkeypatch.setenv("DATABASE_URL", db.conninfo)
    monkeypatch.setenv("SLOTWISE_MODE", "test")
    main(["projections", "status", "--json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return {"head": report["head"], **{r["name"]: r for r in report["readers"]}}


def test_status_shows_each_readers_lag_until_it_catches_up_then_zero(
    db: Database,
    log: Scheduling,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_provider(log)
    register_patient(log)
    head = log.head_position()
    execute(db, "INSERT INTO relay_positions (relay, position) VALUES ('kafka', %s)", head - 1)
    execute(
        db,
        "INSERT INTO projection_dead_letters VALUES "
        "('scheduling', %s, 1, %s, 1, 'Patient.Registered', 'boom', 3, true)",
        uuid.uuid4(),
        uuid.uuid4(),
    )
    execute(db, "INSERT INTO projection_status (projection, last_error) VALUES ('scheduling', 'x')")

    behind = status_json(db, monkeypatch, capsys)

    assert behind["head"] == head == 2
    assert behind["scheduling"]["position"] == 0
    assert behind["scheduling"]["lag_events"] == 2
    assert behind["scheduling"]["lag_seconds"] > 0
    assert behind["scheduling"]["dead_letters"] == 1
    assert behind["scheduling"]["last_error"] == "x"
    assert behind["kafka"]["kind"] == "relay"
    assert behind["kafka"]["lag_events"] == 1
    assert behind["slotwise/event-log"]["kind"] == "sealer"  # the configured origin, unsealed
    assert behind["slotwise/event-log"]["lag_events"] == 2

    with ProjectionRunner(
        application_class=type(log),
        projection_class=SchedulingProjection,
        view_class=PostgresRowView,
        env=eventstore_env(db, 2),
    ) as runner:
        runner.wait(head, timeout=20)
    assert isinstance(runner.view, PostgresRowView)
    runner.view.datastore.close()  # the runner leaves its view's pool open
    execute(db, "UPDATE relay_positions SET position = %s", head)
    execute(
        db,
        "INSERT INTO audit_heads (log, size, position, chain, tree) "
        "VALUES ('slotwise/event-log', %s, %s, '', '')",
        head,
        head,
    )

    caught_up = status_json(db, monkeypatch, capsys)

    assert caught_up["scheduling"]["position"] == head
    assert caught_up["scheduling"]["lag_events"] == 0
    assert caught_up["scheduling"]["lag_seconds"] == 0
    assert caught_up["kafka"]["lag_events"] == caught_up["kafka"]["lag_seconds"] == 0
    assert caught_up["analytics"]["lag_events"] == 2, "analytics has not run at all"
    assert caught_up["slotwise/event-log"]["position"] == head
    assert caught_up["slotwise/event-log"]["lag_events"] == 0


def gauge(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} is not in:\n{text}"
    return float(found.group(1))


def postgres_services(pool: ConnectionPool[Any], log: Scheduling) -> Services:
    """The API's services on PostgreSQL, the log's status included."""
    return Services(
        scheduling=log,
        queries=PostgresSchedulingQueries(pool),
        analytics=PostgresAnalyticsQueries(pool),
        search=PostgresSearch(pool),
        positions=FixedPositions(head=1),
        clock=SystemClock(),
        read_wait_seconds=0.1,
        max_page_size=50,
        status=PostgresStatus(pool, log, audit_origin="slotwise.test/status"),
    )


def test_metrics_serve_request_counts_and_log_gauges_without_a_token_or_rate_limit(
    db: Database, log: Scheduling
) -> None:
    register_provider(log)
    execute(db, "INSERT INTO relay_positions (relay, position) VALUES ('kafka', 0)")
    settings = Settings.from_env({"SLOTWISE_MODE": "test", "SLOTWISE_RATE_LIMIT_PER_MINUTE": "2"})
    with (
        ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool,
        TestClient(create_app(settings, postgres_services(pool, log))) as client,
    ):
        assert client.get("/health").status_code == 200
        scrapes = [client.get("/metrics") for _ in range(4)]

    assert [s.status_code for s in scrapes] == [200] * 4
    text = scrapes[-1].text
    assert gauge(text, "slotwise_log_head_position") == 1
    assert gauge(text, "slotwise_read_waiters") == 0
    assert gauge(text, 'slotwise_projection_position{projection="scheduling"}') == 0
    assert gauge(text, 'slotwise_projection_lag_events{projection="analytics"}') == 1
    assert gauge(text, 'slotwise_projection_lag_seconds{projection="scheduling"}') >= 0
    assert gauge(text, 'slotwise_projection_dead_letters{projection="scheduling"}') == 0
    assert gauge(text, 'slotwise_relay_lag_events{relay="kafka"}') == 1
    assert gauge(text, 'slotwise_sealer_position{sealer="slotwise.test/status"}') == 0
    assert gauge(text, 'slotwise_sealer_lag_events{sealer="slotwise.test/status"}') == 1
    health = re.search(r'^slotwise_requests_total\{[^}]*path="/health"[^}]*\} (\S+)$', text, re.M)
    assert health, text
    assert float(health.group(1)) >= 1
    assert "slotwise_request_duration_seconds_bucket{" in text
    assert 'path="/metrics"' not in text


def access_record(seconds_ago: float) -> AccessRecord:
    return AccessRecord(
        id=uuid.uuid4(),
        recorded_at=datetime.now(UTC) - timedelta(seconds=seconds_ago),
        action="read",
        resource_type="Appointment",
        route="/v1/appointments/{appointment_id}",
        method="GET",
        path_params={},
        query={},
        outcome=200,
        patient_ids=[uuid.uuid4()],
        resource_ids=[],
    )


def test_the_access_sealers_lag_is_in_status_and_metrics_until_it_seals_the_records(
    db: Database,
    log: Scheduling,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    origin = Settings.from_env({"SLOTWISE_MODE": "test"}).audit_access_origin
    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        PostgresAccessLog(pool).append([access_record(30), access_record(5), access_record(1)])
        execute(
            db,
            "INSERT INTO audit_heads (log, size, position, chain, tree) VALUES (%s, 1, 1, '', '')",
            origin,
        )

        behind = status_json(db, monkeypatch, capsys)[origin]
        assert behind["kind"] == "sealer"
        assert behind["position"] == 1
        assert behind["lag_events"] == 2
        assert 4 <= behind["lag_seconds"] < 30  # the oldest unsealed record, not the first

        status = PostgresStatus(pool, log, access_origin=origin)
        settings = Settings.from_env({"SLOTWISE_MODE": "test"})
        services = replace(postgres_services(pool, log), status=status)
        with TestClient(create_app(settings, services)) as client:
            text = client.get("/metrics").text
        assert gauge(text, f'slotwise_sealer_lag_events{{sealer="{origin}"}}') == 2
        assert gauge(text, f'slotwise_sealer_position{{sealer="{origin}"}}') == 1

        execute(db, "UPDATE audit_heads SET position = 3 WHERE log = %s", origin)
        caught_up = status_json(db, monkeypatch, capsys)[origin]
        assert caught_up["lag_events"] == 0
        assert caught_up["lag_seconds"] == 0
