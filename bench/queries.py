"""Query endpoints through the real API (as served: read audit on, one uvicorn process) beside a
raw Litestar endpoint reading an appointment's row by primary key under the same server, auth
and pool settings, 64 connections each, alternating sides per endpoint, with a bounded load
generator (bench/load.py). Also the API process's resident memory after the load."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from api.auth import mint_token
from bench.http import _start, server_env
from bench.load import Load, generate
from bench.setup import STAFF, make_bookables, scheduling
from commands.appointments.messages import BookAppointment
from domain.actor import Role
from domain.slot import Slot
from infra.postgres.database import Database
from infra.postgres.tracking import read_watermark, tracking_table
from infra.settings import DEV_SIGNING_KEY

CONNECTIONS = 64


def _project(db: Database, head: int, env: dict[str, str], logs: Path) -> None:
    """Run the scheduling and search projections until both reach `head`, then stop them."""
    args = [sys.executable, "-m", "workers.cli", "worker", "project", "scheduling", "search"]
    with (logs / "bench-queries-project.log").open("ab") as log:
        worker = subprocess.Popen([*args, "--source", "log"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            while (
                min(read_watermark(conn, tracking_table(n)) for n in ("scheduling", "search"))
                < head
            ):
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"the projections did not reach {head}; see {logs}")
                time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(20)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _row(what: str, load: Load) -> str:
    return f"{what:<34} {load.per_s:>7.0f} {load.p50_ms:>7.1f} {load.p99_ms:>7.1f} {load.failed:>7}"


def report(db: Database, count: int, seconds: float, logs: Path) -> Iterator[str]:
    app = scheduling(db)
    try:
        bookables = make_bookables(app, count)
        booked = bookables[: count // 2]
        ids = [
            app.book(BookAppointment(slot_id=b.slot_id, patient_id=b.patient_id), STAFF).id
            for b in booked
        ]
        first = app.load(Slot, bookables[0].slot_id, "slot")
        provider, first_day = first.provider_id, first.start.date()
        head = app.head_position()
    finally:
        app.close()
    env = server_env(db)
    _project(db, head, env, logs)
    endpoints = {
        "by-id": [f"/v1/appointments/{i}" for i in ids],
        "list": [f"/v1/appointments?provider_id={provider}&limit=20"],
        "slots": [f"/v1/slots/available?provider_id={provider}&limit=20"],
        "schedule": [f"/v1/providers/{provider}/schedule?day={first_day}"],
        "search": ["/v1/search/providers?q=Bench&limit=20"],
    }
    token = mint_token(DEV_SIGNING_KEY, "slotwise", Role.STAFF, STAFF.actor.subject)
    api, api_url = _start(["-m", "workers.cli", "serve"], env, logs / "bench-queries-api.log")
    raw, raw_url = _start(["-m", "bench.raw_app"], env, logs / "bench-queries-raw.log")
    raw_paths = [f"/raw/{i}" for i in ids]
    results: dict[str, tuple[Load, Load]] = {}
    try:
        for path in ("/v1/appointments/" + str(ids[0]), raw_paths[0]):  # warm up both
            generate(api_url if path.startswith("/v1") else raw_url, [path], token, 4, 1)
        for n, (name, paths) in enumerate(endpoints.items()):
            # Each side goes first for every other endpoint.
            if n % 2 == 0:
                ours = generate(api_url, paths, token, CONNECTIONS, seconds)
                base = generate(raw_url, raw_paths, token, CONNECTIONS, seconds)
            else:
                base = generate(raw_url, raw_paths, token, CONNECTIONS, seconds)
                ours = generate(api_url, paths, token, CONNECTIONS, seconds)
            results[name] = (ours, base)
        rss = _rss_mb(api.pid)
    finally:
        for process in (api, raw):
            process.terminate()
            process.wait(20)
    tool = next(iter(results.values()))[0].tool
    yield (
        f"## Query endpoints vs a raw Litestar primary-key endpoint, {CONNECTIONS} connections, "
        f"{seconds:.0f} s per side per endpoint ({tool}; {len(ids)} appointments)"
    )
    yield f"{'endpoint':<34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7}"
    for name, (ours, base) in results.items():
        yield _row(f"{name}: {endpoints[name][0][:24]}", ours)
        yield _row("  raw primary key (same moment)", base)
    for name, (ours, base) in results.items():
        yield (
            f"ratio queries-{name}: {ours.per_s / base.per_s:.2f} "
            f"(p99 {ours.p99_ms / max(base.p99_ms, 0.001):.1f}x the raw endpoint's)"
        )
    yield f"API process resident memory after the query load: {rss:.0f} MB (goal: 200 or less)"
