"""`slotwise run` as a real process tree (relay, Kafka-fed projections, search, hold sweeper,
API, local Tansu): a worker killed with SIGKILL is restarted while the API keeps answering, and
a poison event stops only its projection, which stays up, says so (status, /metrics, /health)
and goes on once an operator skips the event with `slotwise deadletters`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import pytest

from domain.patient import Patient
from infra.postgres.database import Database, eventstore_env
from infra.postgres.server import PostgresLocation, drop_database
from tests.builders import META
from tests.conftest import ROOT, free_port, wait_until
from tests.databases import fresh_database
from tests.integration.test_log_status import gauge
from tests.keys import keyed_scheduling
from tests.scenario import STAFF, ok

pytestmark = pytest.mark.timeout(300)
SCHEDULING_WORKER = "worker project scheduling --source kafka"
SECRET_NAME = "Nul\x00Patient"


@dataclass
class Supervised:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    base_url: str
    database: Database
    log: Path
    failures: list[str] = field(default_factory=list)

    def children(self) -> dict[str, int]:
        """The supervisor's worker and API processes: command line → pid."""
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            if parent == self.process.pid and "workers.cli" in command:
                found[command.split("workers.cli ", 1)[1].strip()] = int(stat.parent.name)
        return found

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout + done.stderr

    def health(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base_url}/health", timeout=5)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def write_and_read(client: httpx.Client, timeout: float = 60) -> int:
    """A provider registered over HTTP; its position once the scheduling read model has it."""
    body = {"profile": {"name": "Dr Ada Lovelace", "time_zone": "UTC"}}
    position: int = ok(client.post("/v1/providers", json=body, headers=STAFF), 201)["position"]

    def readable() -> bool:
        read = client.get("/v1/appointments", params={"min_position": position}, headers=STAFF)
        assert read.status_code in (200, 503), read.text
        return read.status_code == 200

    wait_until(readable, timeout=timeout, what=f"position {position} in the read model")
    return position


@pytest.fixture(scope="module")
def supervised(
    pg_location: PostgresLocation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Supervised]:
    db = fresh_database(pg_location, "supervised")
    state = tmp_path_factory.mktemp("supervised")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"},
        "DATABASE_URL": db.conninfo,
        "SLOTWISE_MODE": "test",
        "SLOTWISE_PORT": str(port),
        "SLOTWISE_POOL_SIZE": "8",
        "SLOTWISE_STATE_DIR": str(state),
        "SLOTWISE_READ_WAIT_SECONDS": "2",
    }
    log = state / "run.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "run"], env=env, stdout=out, stderr=out, cwd=ROOT
        )
    stack = Supervised(process, env, f"http://127.0.0.1:{port}", db, log)
    try:
        with httpx.Client(base_url=stack.base_url, timeout=30) as client:
            wait_until(lambda: _answers(stack), timeout=120, what="the API")
            wait_until(lambda: _projects(client), timeout=150, what="the projections")
        yield stack
    except AssertionError:
        raise AssertionError(log.read_text(errors="replace")[-6000:]) from None
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        drop_database(pg_location.conninfo, db.dbname)


def _answers(stack: Supervised) -> bool:
    try:
        return httpx.get(f"{stack.base_url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _projects(client: httpx.Client) -> bool:
    try:
        write_and_read(client, timeout=5)
    except (AssertionError, httpx.HTTPError):
        return False
    return True


def poll_health(stack: Supervised, stop: threading.Event) -> list[int]:
    """/health every 50 ms until stopped: the status codes (0 for no answer)."""
    codes: list[int] = []
    while not stop.wait(0.05):
        try:
            codes.append(httpx.get(f"{stack.base_url}/health", timeout=2).status_code)
        except httpx.HTTPError:
            codes.append(0)
    return codes


def test_a_worker_killed_with_sigkill_is_restarted_while_the_api_keeps_answering(
    supervised: Supervised,
) -> None:
    before = supervised.children()
    assert SCHEDULING_WORKER in before, before
    stop = threading.Event()
    codes: list[int] = []
    poller = threading.Thread(target=lambda: codes.extend(poll_health(supervised, stop)))
    poller.start()
    try:
        os.kill(before[SCHEDULING_WORKER], signal.SIGKILL)
        wait_until(
            lambda: (
                supervised.children().get(SCHEDULING_WORKER, before[SCHEDULING_WORKER])
                != before[SCHEDULING_WORKER]
            ),
            timeout=30,
            what="the supervisor to restart the worker",
        )
        with httpx.Client(base_url=supervised.base_url, timeout=30) as client:
            write_and_read(client)  # through the restarted worker
    finally:
        stop.set()
        poller.join()

    after = supervised.children()
    assert {k: v for k, v in after.items() if k != SCHEDULING_WORKER} == {
        k: v for k, v in before.items() if k != SCHEDULING_WORKER
    }, "nothing else was restarted"
    assert len(codes) > 10
    assert set(codes) == {200}, codes
    assert "scheduling exited with status -9; restarting in" in supervised.log.read_text()


def poison_patient(db: Database) -> int:
    """A patient the scheduling read model cannot store (PostgreSQL text holds no NUL), saved
    past the command's validation, as an older release could have."""
    with keyed_scheduling(db) as keyed:
        app = keyed(eventstore_env(db, 1))
        try:
            details = {"name": SECRET_NAME, "time_zone": "UTC"}
            patient = Patient(id=uuid4(), details=details, meta=META)
            app.save(patient)
            return app.head_position()
        finally:
            app.close()


def metrics(stack: Supervised) -> str:
    return httpx.get(f"{stack.base_url}/metrics", timeout=10).text


def test_a_poison_event_stops_only_its_projection_until_an_operator_skips_it(
    supervised: Supervised,
) -> None:
    worker = supervised.children()[SCHEDULING_WORKER]
    poison = poison_patient(supervised.database)
    with httpx.Client(base_url=supervised.base_url, timeout=30) as client:
        body = {"profile": {"name": "Dr Later", "time_zone": "UTC"}}
        later = ok(client.post("/v1/providers", json=body, headers=STAFF), 201)
        wait_until(lambda: supervised.health()["status"] == "degraded", timeout=60, what="degraded")

        health = supervised.health()["projections"]
        assert health["scheduling"]["stopped"] is True
        assert health["analytics"]["stopped"] is False
        status = json.loads(supervised.cli("projections", "status", "--json").splitlines()[0])
        readers = {r["name"]: r for r in status["readers"]}
        assert readers["scheduling"]["stopped"] is True
        assert readers["scheduling"]["position"] < poison
        text = metrics(supervised)
        assert gauge(text, 'slotwise_projection_stopped{projection="scheduling"}') == 1
        assert gauge(text, 'slotwise_projection_stopped{projection="analytics"}') == 0
        # The others go on past the poison event, and the API answers.
        wait_until(
            lambda: (
                gauge(metrics(supervised), 'slotwise_projection_position{projection="analytics"}')
                >= later["position"]
            ),
            timeout=30,
            what="analytics past the poison event",
        )
        found = client.get(
            "/v1/search/providers",
            params={"q": "Later", "min_position": later["position"]},
            headers=STAFF,
        )
        assert found.status_code == 200, found.text
        assert found.json()["total"] == 1
        assert later["id"] in found.text
        behind = client.get(
            "/v1/appointments", params={"min_position": later["position"]}, headers=STAFF
        )
        assert behind.status_code == 503  # documented: the read model is behind
        assert supervised.children()[SCHEDULING_WORKER] == worker, "it stays up"

        listed = json.loads(
            supervised.cli("deadletters", "list", "scheduling", "--json").splitlines()[0]
        )
        assert [(d["position"], d["state"], d["topic"]) for d in listed] == [
            (poison, "open", "slotwise.patient.v1")
        ]
        shown = supervised.cli("deadletters", "show", str(listed[0]["id"]), "--json")
        assert "DataError" in json.loads(shown.splitlines()[0])["reason"]
        said = supervised.cli(
            "deadletters",
            "skip",
            str(listed[0]["id"]),
            "--reason",
            "NUL in a name; corrected by a DetailsUpdated",
            "--operator",
            "ops-e2e",
        )
        assert "is now skipped" in said

        write_and_read(client)  # scheduling resumed and caught up
    assert supervised.health()["status"] == "ok"
    assert gauge(metrics(supervised), 'slotwise_projection_stopped{projection="scheduling"}') == 0
    assert supervised.children()[SCHEDULING_WORKER] == worker, "no restart was needed"
    with psycopg.connect(supervised.database.conninfo) as conn:
        audit = conn.execute(
            "SELECT action, operator, reason FROM projection_dead_letter_actions"
        ).fetchall()
        provider = conn.execute(
            "SELECT count(*) FROM rm_providers WHERE id = %s", (later["id"],)
        ).fetchone()
    assert audit == [("skip", "ops-e2e", "NUL in a name; corrected by a DetailsUpdated")]
    assert provider == (1,), "written after the poison event, projected after the skip"
    assert "NulPatient" not in supervised.log.read_text(errors="replace").replace("\x00", "")
