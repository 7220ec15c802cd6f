"""Read audit and provenance through real processes on a database of their own (the API, the
log-fed projections, the event log's sealer and the access records' sealer): a booking's
correlation id explains end to end once sealed and projected; and with the API killed by
SIGKILL under read load, every 200 a client received has its access record."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from domain.actor import Role
from infra.postgres.database import Database
from infra.postgres.server import PostgresLocation
from tests.conftest import Stack, auth, wait_until
from tests.databases import database_of_its_own
from tests.scenario import ok, patient, provider, slot

pytestmark = pytest.mark.timeout(300)
AUDITOR = auth(Role.AUDITOR)


@pytest.fixture(scope="module")
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "read_audit_e2e") as fresh:
        yield fresh


@pytest.fixture(scope="module")
def stack(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(db, tmp_path_factory.mktemp("stack"))
    running.env["SLOTWISE_AUDIT_CHECKPOINT_SECONDS"] = "0.2"
    running.env["SLOTWISE_AUDIT_CHECKPOINT_DIR"] = str(tmp_path_factory.mktemp("checkpoints"))
    running.start("worker", "worker", "project", "scheduling", "analytics", "--source", "log")
    running.start("video-projection", "worker", "project", "video", "--source", "log")
    running.start("sealer", "worker", "seal")
    running.start("access-sealer", "worker", "seal", "--log", "access")
    running.start("api", "serve")
    try:
        wait_until(running.healthy, timeout=90, what="the API to answer /health")
    except AssertionError:
        raise AssertionError(running.logs()) from None
    yield running
    for name in list(running.processes):
        running.stop(name)


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as c:
        yield c


def booked(client: httpx.Client, correlation: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, int]:
    """A booking with this correlation id: (appointment, patient, position)."""
    patient_id, headers = patient(client)
    seat = slot(client, provider(client))
    body = ok(
        client.post(
            "/v1/appointments",
            json={"slot_id": str(seat)},
            headers={**headers, "X-Correlation-ID": str(correlation), "Idempotency-Key": "e2e"},
        ),
        201,
    )
    return uuid.UUID(body["id"]), patient_id, int(body["position"])


def test_a_bookings_correlation_id_explains_end_to_end(client: httpx.Client) -> None:
    correlation = uuid.uuid4()
    appointment, patient_id, position = booked(client, correlation)

    def explained() -> bool:
        answer = client.get(f"/v1/audit/explain/{correlation}", headers=AUDITOR)
        if answer.status_code != 200:
            return False
        body = answer.json()
        sealed = all(e["seal"]["checkpoint_size"] for e in body["events"])
        # The projections this stack runs (every other one is listed too, and stands still).
        applied = {p["projection"]: p["applied"] for p in body["projections"]}
        projected = all(applied[name] for name in ("scheduling", "analytics", "video"))
        return sealed and projected and max(e["position"] for e in body["events"]) == position

    wait_until(explained, timeout=60, what="the booking to be sealed, signed and projected")
    body = client.get(f"/v1/audit/explain/{correlation}", headers=AUDITOR).json()
    assert body["commands"] == ["BookAppointment"]
    assert body["actors"] == [str(patient_id)]
    assert body["idempotency_keys"] == ["e2e"]
    assert str(appointment) in {e["aggregate_id"] for e in body["events"]}
    proof = client.get("/v1/audit/proofs/inclusion", params={"position": position}, headers=AUDITOR)
    assert proof.status_code == 200, proof.text


def test_every_read_answered_before_a_sigkill_has_its_access_record(
    stack: Stack, client: httpx.Client, db: Database, tmp_path: Path
) -> None:
    appointment, _, position = booked(client, uuid.uuid4())
    read = f"/v1/appointments/{appointment}"
    wait_until(
        lambda: (
            client.get(
                read, params={"min_position": position}, headers=auth(Role.STAFF)
            ).status_code
            == 200
        ),
        what="the booking to be projected",
    )
    answered: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def reader() -> None:
        with httpx.Client(base_url=stack.base_url, timeout=10) as mine:
            while not stop.is_set():
                correlation = str(uuid.uuid4())
                headers = {**auth(Role.STAFF), "X-Correlation-ID": correlation}
                try:
                    status = mine.get(read, headers=headers).status_code
                except httpx.HTTPError:
                    continue  # the server went away mid-request: no answer was received
                with lock:
                    answered.append((correlation, status))

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    wait_until(lambda: len(answered) >= 200, timeout=60, what="reads under load")
    stack.processes["api"].kill()  # SIGKILL, mid-load
    stack.processes["api"].wait()
    stop.set()
    for t in threads:
        t.join()
    with psycopg.connect(db.conninfo) as conn:
        recorded = {
            str(r[0])
            for r in conn.execute(
                "SELECT convert_from(state, 'UTF8')::jsonb ->> 'correlation_id' FROM audit_access"
            )
        }
    ok_reads = [c for c, status in answered if status == 200]
    assert len(ok_reads) >= 200
    missing = [c for c in ok_reads if c not in recorded]
    assert missing == []
    stack.processes.pop("api")
    stack.start("api", "serve")
    wait_until(stack.healthy, timeout=90, what="the API to answer again")
