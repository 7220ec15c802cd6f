"""The Kafka fan-out through real processes: HTTP command → relay → Tansu → projection worker
→ query, and its faults: workers killed with SIGKILL mid-stream, and a broker that restarts
empty. Afterwards the read model must equal a fresh rebuild from the event store."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner

from commands.scheduling import Scheduling
from infra.devstack.kafka_broker import KafkaBroker, start_tansu
from infra.postgres.database import Database, eventstore_env, prepare
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation, create_database, drop_database
from projections.analytics import TABLES as ANALYTICS_TABLES
from projections.analytics import AnalyticsProjection
from projections.scheduling import TABLES, SchedulingProjection
from tests.conftest import Stack, utcnow, wait_until
from tests.databases import checksums
from tests.keys import keyed_scheduling
from tests.scenario import STAFF, ok, patient, provider, slot

pytestmark = pytest.mark.timeout(240)


def fresh_database(location: PostgresLocation, label: str) -> Database:
    name = f"slotwise_{label}_{uuid.uuid4().hex[:10]}"
    create_database(location.conninfo, name)
    db = Database(location, name)
    prepare(db)
    return db


class KafkaStack(Stack):
    def __init__(self, database: Database, log_dir: Path, broker: KafkaBroker) -> None:
        super().__init__(database, log_dir)
        self.database = database
        self.broker = broker
        self.env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def kafka_stack(pg_location: PostgresLocation, tmp_path: Path) -> Iterator[KafkaStack]:
    db = fresh_database(pg_location, "kafka")
    broker = start_tansu(tmp_path / "tansu.log")
    stack = KafkaStack(db, tmp_path, broker)
    stack.start("relay", "worker", "relay")
    stack.start("project", "worker", "project", "scheduling", "--source", "kafka")
    stack.start("analytics", "worker", "project", "analytics", "--source", "kafka")
    stack.start("api", "serve")
    try:
        wait_until(stack.healthy, timeout=90, what="the API")
        wait_until(lambda: projecting(stack), timeout=60, what="the Kafka-fed projection")
        yield stack
    finally:
        for name in list(stack.processes):
            stack.stop(name)
        stack.broker.stop()  # the test may have replaced the first broker
        drop_database(pg_location.conninfo, db.dbname)


def projecting(stack: KafkaStack) -> bool:
    """Whether a fresh write becomes readable: the workers are up and past their start-up."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        written = ok(
            client.post(
                "/v1/providers",
                json={"profile": {"name": "Dr Warm-up", "time_zone": "UTC"}},
                headers=STAFF,
            ),
            201,
        )
        read = client.get(
            "/v1/appointments", params={"min_position": written["position"]}, headers=STAFF
        )
    return read.status_code == 200


READ_MODEL_TABLES = (*TABLES, *ANALYTICS_TABLES)


def rebuilt_checksums(pg_location: PostgresLocation, source: Database) -> dict[str, str]:
    """Project the source's whole event store straight into an empty database."""
    target = fresh_database(pg_location, "rebuild")
    try:
        env = {
            **eventstore_env(source, 2),
            "SCHEDULING_POSTGRES_DBNAME": target.dbname,
            "ANALYTICS_POSTGRES_DBNAME": target.dbname,
        }
        head = head_of(source)
        with keyed_scheduling(source) as keyed:
            for projection in (SchedulingProjection, AnalyticsProjection):
                with ProjectionRunner(
                    application_class=keyed,
                    projection_class=projection,
                    view_class=PostgresRowView,
                    env=env,
                ) as runner:
                    runner.wait(head, timeout=60)
                    assert isinstance(runner.view, PostgresRowView)
                    runner.view.datastore.close()
        return checksums(target.conninfo, READ_MODEL_TABLES)
    finally:
        drop_database(pg_location.conninfo, target.dbname)


def head_of(db: Database) -> int:
    app = Scheduling(eventstore_env(db, 1))  # reads no personal data: no keys needed
    try:
        return app.head_position()
    finally:
        app.close()


def book_many(client: httpx.Client, count: int) -> int:
    """Book `count` visits (each: provider, patient, slot, booking); return the last position."""
    position = 0
    for n in range(count):
        provider_id = provider(client)
        _, me = patient(client)
        slot_id = slot(client, provider_id, utcnow() + timedelta(hours=1 + n))
        booked = client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me)
        position = max(position, ok(booked, 201)["position"])
    return position


def test_a_booking_reaches_the_read_model_through_kafka(kafka_stack: KafkaStack) -> None:
    with httpx.Client(base_url=kafka_stack.base_url, timeout=30) as client:
        provider_id = provider(client)
        _, me = patient(client)
        booked = ok(
            client.post(
                "/v1/appointments",
                json={"slot_id": str(slot(client, provider_id))},
                headers=me,
            ),
            201,
        )
        read = client.get(
            f"/v1/appointments/{booked['id']}",
            params={"min_position": booked["position"]},
            headers=me,
        )
    assert ok(read, 200)["status"] == "booked"
    # The read may have been served by the event-store catch-up while the consumer was still
    # joining its group; Kafka must deliver as well.
    with psycopg.connect(kafka_stack.database.conninfo, autocommit=True) as conn:

        def consumed() -> bool:
            row = conn.execute("SELECT count(*) FROM projection_offsets").fetchone()
            return row is not None and row[0] > 0

        wait_until(consumed, timeout=60, what="the projection to consume from Kafka")


def test_killed_workers_and_a_broker_that_restarts_empty_lose_and_duplicate_nothing(
    kafka_stack: KafkaStack, pg_location: PostgresLocation
) -> None:
    db = kafka_stack.database
    with httpx.Client(base_url=kafka_stack.base_url, timeout=30) as client:
        book_many(client, 3)

        # SIGKILL the projection worker while commands keep coming, then restart it.
        writer = threading.Thread(target=book_many, args=(client, 4))
        writer.start()
        kafka_stack.kill("project")
        writer.join()
        kafka_stack.start("project", "worker", "project", "scheduling", "--source", "kafka")

        # SIGKILL the relay mid-stream, then restart it.
        writer = threading.Thread(target=book_many, args=(client, 4))
        writer.start()
        kafka_stack.kill("relay")
        writer.join()
        kafka_stack.start("relay", "worker", "relay")

        # The broker restarts with nothing: every topic and offset it had is gone.
        port = int(kafka_stack.broker.bootstrap.rsplit(":", 1)[1])
        kafka_stack.broker.kill()
        kafka_stack.broker = start_tansu(kafka_stack.log_dir / "tansu-2.log", port=port)
        book_many(client, 3)

    head = head_of(db)
    with psycopg.connect(db.conninfo) as conn:

        def caught_up() -> bool:
            row = conn.execute(
                "SELECT notification_id FROM scheduling_tracking "
                "WHERE application_name = 'Slotwise'"
            ).fetchone()
            return row is not None and row[0] >= head

        wait_until(caught_up, timeout=60, what="the Kafka-fed projection to reach the head")

        def analytics_caught_up() -> bool:
            row = conn.execute(
                "SELECT notification_id FROM analytics_tracking WHERE application_name = 'Slotwise'"
            ).fetchone()
            return row is not None and row[0] >= head

        wait_until(analytics_caught_up, timeout=60, what="the analytics projection")
        wait_until(
            lambda: (
                (conn.execute("SELECT position FROM relay_positions").fetchone() or (0,))[0] >= head
            ),
            timeout=60,
            what="the relay to publish the whole log",
        )
        applied = conn.execute(
            "SELECT count(*), coalesce(sum(version), 0) FROM projection_versions "
            "WHERE projection = 'scheduling'"
        ).fetchone()
        in_store = conn.execute(
            "SELECT count(DISTINCT originator_id), count(*) FROM slotwise_events"
        ).fetchone()
    assert applied is not None
    assert in_store is not None
    # Every aggregate is applied exactly up to its last stored version: nothing missing.
    assert applied[0] == in_store[0]
    assert applied[1] == in_store[1]
    # And the rows equal a fresh rebuild: nothing applied twice or out of order.
    assert checksums(db.conninfo, READ_MODEL_TABLES) == rebuilt_checksums(pg_location, db), (
        kafka_stack.logs()
    )
