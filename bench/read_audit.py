"""Read audit's cost: GET /v1/appointments/{id} requests/s through the real API with read audit
on (an access record committed before every answer) and off, on the same database in one run,
alternating sides, printed as a ratio (the goal is at least 0.8)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from eventsourcing.projection import ProjectionRunner

from api.auth import mint_token
from bench.http import CLIENTS, _start, server_env
from bench.setup import STAFF, make_bookables, percentile, scheduling
from commands.appointments.messages import BookAppointment
from domain.actor import Role
from infra.postgres.database import Database, eventstore_env
from infra.postgres.rows import PostgresRowView
from infra.settings import DEV_SIGNING_KEY
from projections.scheduling import SchedulingProjection

ROUNDS = 4


def _project(db: Database, head: int) -> None:
    app_class = type(scheduling(db, 1))
    with ProjectionRunner(
        application_class=app_class,
        projection_class=SchedulingProjection,
        view_class=PostgresRowView,
        env=eventstore_env(db, 2),
    ) as runner:
        runner.wait(head, timeout=120)


def _load(url: str, paths: list[str], token: str) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)

    def client(mine: list[str]) -> None:
        times, bad = [], 0
        with httpx.Client(base_url=url, timeout=30) as c:
            barrier.wait()
            for path in mine:
                began = time.perf_counter()
                r = c.get(path, headers={"Authorization": f"Bearer {token}"})
                times.append(time.perf_counter() - began)
                bad += r.status_code != 200
        with lock:
            latencies.extend(times)
            failures[0] += bad

    threads = [threading.Thread(target=client, args=(paths[i::CLIENTS],)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began, latencies, failures[0]


def report(
    db: Database, count: int, log_dir: Path, requests: int = 2000, rounds: int = ROUNDS
) -> Iterator[str]:
    app = scheduling(db)
    try:
        ids = [
            app.book(BookAppointment(slot_id=b.slot_id, patient_id=b.patient_id), STAFF).id
            for b in make_bookables(app, count)
        ]
        head = app.head_position()
    finally:
        app.close()
    _project(db, head)
    env = server_env(db)
    token = mint_token(DEV_SIGNING_KEY, "slotwise", Role.STAFF, STAFF.actor.subject)
    paths = [f"/v1/appointments/{ids[n % len(ids)]}" for n in range(requests)]
    results: dict[str, list[tuple[float, list[float], int]]] = {"off": [], "on": []}
    for round_ in range(rounds):
        # Each side goes first in one round, so warming up favours neither.
        for side in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            log = log_dir / f"bench-read-{side}.log"
            api, url = _start(["-m", "bench.read_app"], {**env, "BENCH_READ_AUDIT": side}, log)
            try:
                _load(url, paths[:200], token)  # warm up: pools, caches
                results[side].append(_load(url, paths, token))
            finally:
                api.terminate()
                api.wait(20)
    rate = {s: requests * len(r) / sum(x[0] for x in r) for s, r in results.items()}
    yield f"## Read audit: GET /v1/appointments/{{id}}, {CLIENTS} clients, {requests} requests"
    yield f"   per side per round, {rounds} rounds alternating"
    yield f"{'read audit':<12} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'non-200':>8}"
    for side in ("off", "on"):
        latencies = [v for r in results[side] for v in r[1]]
        failed = sum(r[2] for r in results[side])
        yield (
            f"{side:<12} {rate[side]:>7.0f} {percentile(latencies, 50) * 1000:>7.1f} "
            f"{percentile(latencies, 99) * 1000:>7.1f} {failed:>8}"
        )
    yield f"ratio read-audit: {rate['on'] / rate['off']:.2f} (on / off; goal: 0.8 or more)"
