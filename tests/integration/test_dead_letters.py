"""A Kafka-fed projection stopped on a dead letter stays up, says so (status, /metrics,
/health), and goes on when an operator skips the event or retries it after a fix, through
`slotwise deadletters` on the running projection. Every skip and retry leaves an audit row."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import TestClient
from psycopg_pool import ConnectionPool

from api.app import create_app
from commands.scheduling import Scheduling
from domain.patient import Patient
from infra.postgres.database import Database
from infra.postgres.projection_state import PostgresProjectionState
from infra.postgres.status import PostgresStatus
from infra.settings import Settings
from projections.changes import Change
from projections.scheduling import changes_for
from tests.builders import META, register_provider
from tests.conftest import wait_until
from tests.fakes import ScriptedDeliveries
from tests.integration import test_kafka_projector as kafka
from tests.integration.test_kafka_projector import deliveries, log_of, rows
from tests.integration.test_log_status import gauge, postgres_services
from workers.cli import main
from workers.kafka_projection import KafkaProjector, PoisonEventError, run_kafka_projection

SECRET_NAME = "Nul\x00Patient"


# The Kafka projector's own: a database per test, the application on it.
db = kafka.db
app = kafka.app


@pytest.fixture
def pool(db: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(db.conninfo, min_size=1, max_size=4) as opened:
        yield opened


@pytest.fixture
def state(pool: ConnectionPool[Any]) -> PostgresProjectionState:
    return PostgresProjectionState(pool, "scheduling")


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("DATABASE_URL", db.conninfo)
    monkeypatch.setenv("SLOTWISE_MODE", "test")

    def run(*args: str) -> str:
        capsys.readouterr()
        main(list(args))
        captured = capsys.readouterr()
        return captured.out + captured.err

    return run


def poison_patient(app: Scheduling) -> UUID:
    """A patient the scheduling read model cannot store (PostgreSQL text holds no NUL): the
    aggregate built directly, past the command's validation, as an older release could have."""
    patient = Patient(id=uuid4(), details={"name": SECRET_NAME, "time_zone": "UTC"}, meta=META)
    app.save(patient)
    return patient.id


def stalled_projection(
    projector: KafkaProjector, batch: list[Any], pool: ConnectionPool[Any]
) -> tuple[threading.Thread, list[BaseException]]:
    """The projector handling `batch` in a thread, once it has stopped on a dead letter."""
    failures: list[BaseException] = []

    def work() -> None:
        try:
            projector.handle(batch)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=work, name="stalled-projection")
    thread.start()
    stopped = lambda: status_of(pool, projector.app, "scheduling").stopped  # noqa: E731
    wait_until(stopped, what="the projection to stop")
    return thread, failures


def status_of(pool: ConnectionPool[Any], app: Scheduling, name: str) -> Any:
    return next(r for r in PostgresStatus(pool, app).status().readers if r.name == name)


def test_a_stopped_projection_stays_up_reports_itself_and_goes_on_after_a_skip(
    app: Scheduling,
    state: PostgresProjectionState,
    pool: ConnectionPool[Any],
    db: Database,
    cli: Any,
) -> None:
    register_provider(app)
    patient_id = poison_patient(app)
    later_provider = register_provider(app)
    log = log_of(app)
    poison = next(p for p, e in log if isinstance(e, Patient.Registered))
    projector = KafkaProjector(app, changes_for, state, stop=threading.Event(), operator_poll=0.05)
    thread, failures = stalled_projection(projector, deliveries(log).poll(1000, 0), pool)

    assert thread.is_alive(), "a stopped projection waits for the operator"
    stopped = status_of(pool, app, "scheduling")
    assert stopped.position < poison
    assert "DataError" in (stopped.last_error or ""), "named by class, without the value"
    assert not status_of(pool, app, "analytics").stopped

    listed = json.loads(cli("deadletters", "list", "scheduling", "--json").split("\n")[0])
    assert [(d["position"], d["state"], d["topic"]) for d in listed] == [
        (poison, "open", "slotwise.patient.v1")
    ]
    letter_id = listed[0]["id"]
    shown = cli("deadletters", "show", str(letter_id))
    assert str(patient_id) in shown
    assert "Nul" not in shown + json.dumps(listed), "no personal data"

    said = cli(
        "deadletters", "skip", str(letter_id), "--reason", "NUL in a name", "--operator", "ops1"
    )
    assert "is now skipped" in said

    thread.join(timeout=20)
    assert (thread.is_alive(), failures) == (False, [])
    assert projector.advance() == log[-1][0]
    resumed = status_of(pool, app, "scheduling")
    assert (resumed.stopped, resumed.last_error, resumed.lag_events) == (False, None, 0)
    assert rows(db, f"SELECT count(*) FROM rm_providers WHERE id = '{later_provider}'") == [(1,)]
    assert rows(db, f"SELECT count(*) FROM rm_patients WHERE id = '{patient_id}'") == [(0,)]
    assert rows(
        db,
        "SELECT a.action, a.operator, a.reason, a.event_id = l.event_id "
        "FROM projection_dead_letter_actions a JOIN projection_dead_letters l "
        "ON l.id = a.dead_letter_id",
    ) == [("skip", "ops1", "NUL in a name", True)]
    with pytest.raises(SystemExit, match="is skipped"):
        cli("deadletters", "skip", str(letter_id), "--reason", "again")
    with pytest.raises(SystemExit, match="no dead letter"):
        cli("deadletters", "retry", "999999", "--reason", "none such")


def test_a_retry_after_a_fix_applies_the_event_and_resolves_its_letter(
    app: Scheduling,
    state: PostgresProjectionState,
    pool: ConnectionPool[Any],
    db: Database,
    cli: Any,
) -> None:
    provider_id = register_provider(app)
    log = log_of(app)
    fixed = threading.Event()

    def until_fixed(event: Any) -> list[Change]:
        if not fixed.is_set():
            raise ValueError("no upcaster for this yet")
        return changes_for(event)

    projector = KafkaProjector(app, until_fixed, state, stop=threading.Event(), operator_poll=0.05)
    thread, failures = stalled_projection(projector, deliveries(log).poll(1000, 0), pool)

    letter_id = json.loads(cli("deadletters", "list", "--json").split("\n")[0])[0]["id"]
    cli("deadletters", "retry", str(letter_id), "--reason", "too early", "--operator", "ops1")
    wait_until(
        lambda: rows(db, "SELECT state, attempts FROM projection_dead_letters") == [("open", 6)],
        what="the retry to fail again",
    )
    fixed.set()  # the fix forward is deployed
    cli("deadletters", "retry", str(letter_id), "--reason", "upcaster v2", "--operator", "ops2")

    thread.join(timeout=20)
    assert (thread.is_alive(), failures) == (False, [])
    assert rows(db, "SELECT state FROM projection_dead_letters") == [("resolved",)]
    assert rows(db, f"SELECT count(*) FROM rm_providers WHERE id = '{provider_id}'") == [(1,)]
    assert not status_of(pool, app, "scheduling").stopped
    assert rows(db, "SELECT action, operator FROM projection_dead_letter_actions ORDER BY id") == [
        ("retry", "ops1"),
        ("retry", "ops2"),
    ]


def test_a_worker_restarted_with_a_fix_resolves_the_open_letter(
    app: Scheduling, state: PostgresProjectionState, pool: ConnectionPool[Any], db: Database
) -> None:
    register_provider(app)
    log = log_of(app)

    def broken(event: Any) -> list[Change]:
        raise ValueError("old release")

    with pytest.raises(PoisonEventError):
        KafkaProjector(app, broken, state).handle(deliveries(log).poll(1000, 0))
    assert status_of(pool, app, "scheduling").stopped

    KafkaProjector(app, changes_for, state).handle(deliveries(log).poll(1000, 0))

    assert rows(db, "SELECT state FROM projection_dead_letters") == [("resolved",)]
    resumed = status_of(pool, app, "scheduling")
    assert (resumed.stopped, resumed.last_error) == (False, None)


def test_a_stop_request_ends_a_projection_waiting_on_a_dead_letter(
    app: Scheduling, state: PostgresProjectionState, pool: ConnectionPool[Any]
) -> None:
    poison_patient(app)
    stop = threading.Event()
    projector = KafkaProjector(app, changes_for, state, stop=stop, operator_poll=0.05)
    scripted: ScriptedDeliveries = deliveries(log_of(app))
    runner = threading.Thread(target=run_kafka_projection, args=(projector, scripted, stop))
    runner.start()
    wait_until(lambda: status_of(pool, app, "scheduling").stopped, what="the projection to stop")

    stop.set()
    runner.join(timeout=10)

    assert (runner.is_alive(), scripted.closed) == (False, True)


def test_health_and_metrics_show_a_stopped_projection_and_still_answer_200(
    app: Scheduling, state: PostgresProjectionState, pool: ConnectionPool[Any]
) -> None:
    poison_patient(app)
    with pytest.raises(PoisonEventError):
        KafkaProjector(app, changes_for, state).handle(deliveries(log_of(app)).poll(1000, 0))
    with TestClient(
        create_app(Settings.from_env({"SLOTWISE_MODE": "test"}), postgres_services(pool, app))
    ) as client:
        health = client.get("/health")
        metrics = client.get("/metrics").text

    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded"
    assert body["projections"]["scheduling"]["stopped"] is True
    assert body["projections"]["scheduling"]["open_dead_letters"] == 1
    assert body["projections"]["analytics"]["stopped"] is False
    assert gauge(metrics, 'slotwise_projection_stopped{projection="scheduling"}') == 1
    assert gauge(metrics, 'slotwise_projection_stopped{projection="analytics"}') == 0
    assert gauge(metrics, 'slotwise_projection_dead_letters{projection="scheduling"}') == 1
    assert "Nul" not in metrics + health.text
