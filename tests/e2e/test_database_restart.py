"""A PostgreSQL crash under booking load, through `make run`'s processes (`slotwise run`: the
relay, the Kafka-fed projection workers, the search worker, the hold sweeper and the API, with
a local Tansu). The server is one this test starts itself, on a port of its own, so it can
crash it: an immediate stop (every connection dropped, no checkpoint), back five seconds later
on the same port and data.

Afterwards: every acknowledged booking is in the event store once and in every read model,
nothing was registered twice, every process is the one that started, every reader is back at
the head of the log, and reads answered 200 within seconds of the server returning (503 with
Retry-After while it was away, never 500)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from domain.actor import Role
from infra.devstack.postgres_server import crash_server, start_server
from infra.postgres.server import PostgresLocation, conninfo_for, create_database
from infra.postgres.tracking import read_watermark, tracking_table
from tests.conftest import ROOT, auth, free_port, utcnow, wait_until
from tests.scenario import STAFF, provider, slot

pytestmark = pytest.mark.timeout(180)

OUTAGE_SECONDS = 5.0
WRITERS = 4
READERS_BACK_WITHIN = 10.0  # seconds after the server returns


@dataclass
class OwnServer:
    pgdata: Path
    port: int
    location: PostgresLocation

    def crash(self) -> None:
        crash_server(self.pgdata)

    def restart(self) -> None:
        start_server(self.pgdata, self.port)


@pytest.fixture
def own_server() -> Iterator[OwnServer]:
    # Not under pytest's tmp_path: as root the server runs as another user, who must be able
    # to reach its directory, and pytest keeps its temporary directories private.
    with tempfile.TemporaryDirectory(prefix="slotwise-crash-") as directory:
        pgdata = Path(directory) / "postgres"
        port = free_port()
        server = OwnServer(pgdata, port, start_server(pgdata, port))
        try:
            yield server
        finally:
            crash_server(pgdata)  # its data goes with the directory


@dataclass
class Supervisor:
    process: subprocess.Popen[bytes]
    base_url: str
    conninfo: str
    log: Path

    def children(self) -> set[int]:
        """The pids of the supervisor's child processes (from /proc: no extra dependency)."""
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.process.pid:
                found.add(int(stat.parent.name))
        return found

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-8000:]


@pytest.fixture
def supervisor(own_server: OwnServer, tmp_path: Path) -> Iterator[Supervisor]:
    create_database(own_server.location.conninfo, "slotwise")
    conninfo = conninfo_for(own_server.location, "slotwise")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": conninfo,
        "SLOTWISE_MODE": "test",
        "SLOTWISE_PORT": str(port),
        "SLOTWISE_POOL_SIZE": "8",
        "SLOTWISE_STATE_DIR": str(tmp_path / "state"),
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # `slotwise run` starts its own Tansu
    log = tmp_path / "run.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "run"],
            env=env,
            stdout=out,
            stderr=out,
            cwd=ROOT,
        )
    running = Supervisor(process, f"http://127.0.0.1:{port}", conninfo, log)
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Load:
    """Writers registering a patient and booking them into their own slot, each write retried
    with its Idempotency-Key until it is acknowledged; the booking ids acknowledged; every
    status answered, and every read's status with the time it was answered."""

    base_url: str
    slots: list[uuid.UUID]
    stop: threading.Event = field(default_factory=threading.Event)
    booked: list[uuid.UUID] = field(default_factory=list)
    registered: int = 0
    statuses: list[int] = field(default_factory=list)
    reads: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, path: str, body: dict[str, object], who: dict[str, str]) -> uuid.UUID:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while True:
                try:
                    response = client.post(path, json=body, headers={**who, **key})
                except httpx.TransportError:
                    status = 0
                else:
                    status = response.status_code
                with self.lock:
                    self.statuses.append(status)
                if status == 201:
                    return uuid.UUID(response.json()["id"])
                assert status in (0, 503), response.text
                assert time.monotonic() < deadline, f"{path} never acknowledged"
                time.sleep(0.2)

    def write(self, slot_id: uuid.UUID) -> None:
        while not self.stop.is_set():
            patient_id = uuid.uuid4()
            me = auth(Role.PATIENT, patient_id)
            details = {"name": "Grace Hopper", "time_zone": "Europe/Berlin"}
            self.acknowledged("/v1/patients", {"details": details}, me)
            with self.lock:
                self.registered += 1
            booking = self.acknowledged("/v1/appointments", {"slot_id": str(slot_id)}, me)
            with self.lock:
                self.booked.append(booking)

    def read(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    status = client.get("/v1/appointments", headers=STAFF).status_code
                except httpx.TransportError:
                    status = 0
                with self.lock:
                    self.reads.append((time.monotonic(), status))
                time.sleep(0.1)

    def count(self) -> int:
        with self.lock:
            return len(self.booked)


def head_and_positions(conninfo: str) -> tuple[int, dict[str, int]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM slotwise_events")
        head = int((row.fetchone() or (0,))[0])
        positions = {
            name: read_watermark(conn, tracking_table(name))
            for name in ("scheduling", "analytics", "search")
        }
        relay = conn.execute("SELECT position FROM relay_positions").fetchone()
        positions["relay"] = int(relay[0]) if relay else 0
    return head, positions


def test_a_database_crash_under_booking_load_loses_nothing_and_stops_no_process(
    own_server: OwnServer, supervisor: Supervisor
) -> None:
    def projecting() -> bool:
        try:
            with httpx.Client(base_url=supervisor.base_url, timeout=10) as client:
                written = client.post(
                    "/v1/providers",
                    json={"profile": {"name": "Dr Warm-up", "time_zone": "UTC"}},
                    headers=STAFF,
                )
                if written.status_code != 201:
                    return False
                position = written.json()["position"]
            _, positions = head_and_positions(supervisor.conninfo)
        except (httpx.HTTPError, psycopg.Error):
            return False
        return all(p >= position for p in positions.values())

    try:
        wait_until(projecting, timeout=150, what="`slotwise run` to serve and project")
    except AssertionError:
        raise AssertionError(supervisor.logs()) from None
    processes = supervisor.children()
    assert len(processes) >= 6, processes  # relay, 2 Kafka workers, search, holds, API (+ Tansu)

    with httpx.Client(base_url=supervisor.base_url, timeout=30) as client:
        start = utcnow() + timedelta(days=1)
        slots = [slot(client, provider(client), start, capacity=500) for _ in range(WRITERS)]
    load = Load(supervisor.base_url, slots)
    threads = [threading.Thread(target=load.write, args=(s,)) for s in slots]
    threads.append(threading.Thread(target=load.read))
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: load.count() >= 10, timeout=30, what="bookings before the crash")
        own_server.crash()
        crashed_at = time.monotonic()
        booked_before = load.count()
        time.sleep(OUTAGE_SECONDS)  # the outage itself, not a wait for a condition
        own_server.restart()
        back_at = time.monotonic()
        wait_until(
            lambda: load.count() >= booked_before + 20,
            timeout=40,
            what="bookings after the server returned",
        )
    finally:
        load.stop.set()
        for thread in threads:
            thread.join()

    # Reads: 503 (or a wait) while the server was away, never 500; 200 soon after it returned.
    assert set(load.statuses) <= {0, 201, 503}, load.statuses
    assert {status for _, status in load.reads} <= {200, 503}, load.reads
    first_ok = min((at for at, status in load.reads if at > back_at and status == 200), default=0)
    timeline = [(round(at - crashed_at, 2), status) for at, status in load.reads]
    assert 0 < first_ok - back_at < READERS_BACK_WITHIN, f"{back_at - crashed_at} {timeline}"
    assert all(status == 200 for at, status in load.reads if at >= first_ok), load.reads

    # Every process is the one that started: none exited, none was restarted.
    assert supervisor.process.poll() is None, supervisor.logs()
    assert supervisor.children() == processes, supervisor.logs()

    # Every reader reaches the head of the log again.
    def caught_up() -> bool:
        head, positions = head_and_positions(supervisor.conninfo)
        return all(p >= head for p in positions.values())

    try:
        wait_until(caught_up, timeout=30, what="every projection and the relay at the head")
    except AssertionError:
        raise AssertionError(supervisor.logs()) from None

    booked = [str(b) for b in load.booked]
    assert len(set(booked)) == len(booked)
    with psycopg.connect(supervisor.conninfo, autocommit=True) as conn:

        def count(query: str, *params: object) -> int:
            row = conn.execute(query, params).fetchone()
            return int(row[0]) if row else -1

        # In the event store once each, and nothing booked or registered that was not
        # acknowledged (every write was retried until it was).
        created = (
            "SELECT count(*) FROM slotwise_events WHERE originator_version = 1 AND topic LIKE %s"
        )
        assert count(created, "%:Appointment.Scheduled") == len(booked)
        assert count(created, "%:Patient.Registered") == load.registered
        assert count(
            "SELECT count(*) FROM slotwise_events WHERE originator_id = ANY(%s::uuid[]) "
            "AND originator_version = 1",
            booked,
        ) == len(booked)
        # In every read model.
        for table in ("rm_appointments", "an_appointments"):
            query = f"SELECT count(*) FROM {table} WHERE id = ANY(%s::uuid[])"
            assert count(query, booked) == len(booked), table
