"""No personal data in logs or dead letters, through the real processes: the API (its own log
and the access log), the relay, a Kafka-fed projection worker and a log-fed one.

A patient with recognisable values registers, books with a reason and completes with notes;
commands carrying those values are refused (409, 400); a search is made for the name. Check
constraints on the read-model tables make the projections fail on exactly those values, so the
database errors echo them (PostgreSQL's "Failing row contains (...)"): the Kafka-fed worker
dead-letters the event and moves on (`--skip-poison`), the log-fed one stops and retries. Then
every captured log line, every dead-letter row and every recorded error is searched for the
patient's values."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from domain.actor import Role
from infra.devstack.kafka_broker import start_tansu
from infra.postgres.database import Database
from infra.postgres.server import PostgresLocation, drop_database
from tests.conftest import auth, utcnow, wait_until
from tests.e2e.test_kafka_fanout import KafkaStack, fresh_database, projecting
from tests.scenario import ok, provider, slot

pytestmark = pytest.mark.timeout(240)

TAG = uuid.uuid4().hex[:8]
NAME = f"Zelda Quixote-{TAG}"
PHONE = f"+1555{int(TAG, 16) % 10_000_000:07d}"
EMAIL = f"zelda.{TAG}@example.org"
REASON = f"recurring migraine {TAG}"
NOTES = f"rest and fluids {TAG}"
PRIVATE = f"anxious about {TAG}-results"
SECRETS = (NAME, PHONE, EMAIL, REASON, NOTES, PRIVATE, TAG)
OUR_PROCESSES = ("api", "relay", "scheduling", "log-worker")


@pytest.fixture
def stack(pg_location: PostgresLocation, tmp_path: Path) -> Iterator[KafkaStack]:
    db = fresh_database(pg_location, "privacy")
    broker = start_tansu(tmp_path / "tansu.log")
    running = KafkaStack(db, tmp_path, broker)
    running.start("relay", "worker", "relay")
    running.start(
        "scheduling", "worker", "project", "scheduling", "--source", "kafka", "--skip-poison"
    )
    running.start("log-worker", "worker", "project", "analytics", "search", "--source", "log")
    running.start("api", "serve")
    try:
        wait_until(running.healthy, timeout=90, what="the API")
        wait_until(lambda: projecting(running), timeout=60, what="the Kafka-fed projection")
        refuse(db, "rm_appointments", "reason", REASON)
        refuse(db, "sr_notes", "notes", NOTES)
        yield running
    finally:
        for name in list(running.processes):
            running.stop(name)
        running.broker.stop()
        drop_database(pg_location.conninfo, db.dbname)


def refuse(db: Database, table: str, column: str, value: str) -> None:
    """A check constraint that fails on `value`: the error PostgreSQL raises shows the row."""
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT privacy_probe CHECK ({} <> {})").format(
                sql.Identifier(table), sql.Identifier(column), sql.Literal(value)
            )
        )


def fetch(db: Database, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(db.conninfo) as conn:
        return conn.execute(query).fetchall()


def run_the_visit(client: httpx.Client) -> None:
    provider_id = provider(client)
    patient_id = uuid.uuid4()
    me = auth(Role.PATIENT, patient_id)
    details = {"name": NAME, "phone": PHONE, "email": EMAIL, "time_zone": "Europe/Berlin"}
    ok(client.post("/v1/patients", json={"details": details}, headers=me), 201)
    refused = {"details": {**details, "nickname": NAME}}
    ok(client.post("/v1/patients", json=refused, headers=auth(Role.PATIENT)), 400)

    slot_id = slot(client, provider_id, utcnow() + timedelta(minutes=5))
    booking = {"slot_id": str(slot_id), "reason": REASON, "symptoms": [PRIVATE]}
    appointment = ok(client.post("/v1/appointments", json=booking, headers=me), 201)["id"]
    # Refused with the same personal values in their bodies: the slot taken, and a malformed field
    # whose value msgspec echoes back to the caller (and only to the caller).
    ok(client.post("/v1/appointments", json=booking, headers=me), 409)
    malformed = {**booking, "appointment_type": PHONE}
    ok(client.post("/v1/appointments", json=malformed, headers=me), 400)

    care = auth(Role.PROVIDER, provider_id)
    ok(client.post(f"/v1/appointments/{appointment}/confirm", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/start", headers=care), 200)
    completion = {"notes": NOTES, "private_notes": PRIVATE, "vitals": {"mood": PRIVATE}}
    ok(client.post(f"/v1/appointments/{appointment}/complete", json=completion, headers=care), 200)
    searched = client.get("/v1/search/notes", params={"q": NAME}, headers=me)
    assert searched.status_code < 500, searched.text


def test_no_log_line_dead_letter_or_recorded_error_holds_the_patients_values(
    stack: KafkaStack,
) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        run_the_visit(client)
    db = stack.database
    wait_until(
        lambda: fetch(db, "SELECT 1 FROM projection_dead_letters WHERE skipped"),
        timeout=60,
        what="the poison booking to be dead-lettered",
    )
    worker_log = stack.log_dir / "log-worker.log"
    wait_until(
        lambda: "projection stopped on an error" in worker_log.read_text(errors="replace"),
        timeout=60,
        what="the log-fed search projection to fail on the notes",
    )
    for name in list(stack.processes):
        stack.stop(name)  # flushes every process's output

    letters = fetch(db, "SELECT event_type, error FROM projection_dead_letters")
    errors = fetch(db, "SELECT last_error FROM projection_status WHERE last_error IS NOT NULL")
    logs = {p.stem: p.read_text(errors="replace") for p in sorted(stack.log_dir.glob("*.log"))}
    stored = [f"dead letter {row}" for row in letters] + [f"status {row}" for row in errors]
    lines = [f"{name}: {line}" for name, text in logs.items() for line in text.splitlines()]

    leaks = [line for line in lines + stored if any(s in line for s in SECRETS)]
    assert leaks == []
    # The failures happened where intended, and were reported by class and place.
    assert any("CheckViolation" in str(error) for _, error in letters), letters
    failed = [json.loads(line) for line in logs["log-worker"].splitlines() if "stopped" in line]
    assert "<- psycopg.errors.CheckViolation (sqlstate 23514" in failed[0]["error"]
    assert "table_name=sr_notes" in failed[0]["error"]
    # Every line our processes wrote is a JSON object (test mode logs JSON).
    for name in OUR_PROCESSES:
        for line in logs[name].splitlines():
            assert isinstance(json.loads(line), dict), f"{name}: {line}"
    access = [json.loads(line) for line in logs["api"].splitlines() if "http request" in line]
    routes = {(a["method"], a["route"], a["status"]) for a in access}
    assert ("GET", "/v1/search/notes", 200) in routes or ("GET", "/v1/search/notes", 503) in routes
    assert ("POST", "/v1/appointments", 409) in routes
    assert all(a["correlation_id"] for a in access)
