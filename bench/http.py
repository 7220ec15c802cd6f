"""HTTP booking requests/s and latency against the running API, beside the raw endpoint."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint_token
from bench.booking import BASELINE_DDL, event_sizes
from bench.setup import ROOT, make_bookables, percentile, scheduling
from domain.actor import Role
from infra.postgres.database import Database
from infra.settings import DEV_SIGNING_KEY

CLIENTS = 8


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, *args], env={**env, "SLOTWISE_PORT": str(port)}, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/health", timeout=0.5)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server {args} did not start; see {log}")


def _load(
    url: str, path: str, bodies: list[tuple[dict[str, Any], str]]
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    chunks = [bodies[i::CLIENTS] for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)

    def client(items: list[tuple[dict[str, Any], str]]) -> None:
        mine = []
        bad = 0
        with httpx.Client(base_url=url, timeout=30) as c:
            barrier.wait()
            for body, token in items:
                began = time.perf_counter()
                r = c.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
                mine.append(time.perf_counter() - began)
                bad += r.status_code != 201
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began, latencies, failures[0]


def server_env(db: Database) -> dict[str, str]:
    """The environment every bench server runs with (the API and the raw baselines alike)."""
    return {
        **os.environ,
        "DATABASE_URL": db.conninfo,
        "SLOTWISE_MODE": "test",
        "SLOTWISE_POOL_SIZE": "10",
        "SLOTWISE_RATE_LIMIT_PER_MINUTE": "100000000",
        "PYTHONPATH": str(ROOT),
    }


def report(db: Database, count: int, log_dir: Path) -> list[str]:
    app = scheduling(db)
    try:
        bookables = make_bookables(app, count)
        head = app.head_position()
    finally:
        app.close()
    env = server_env(db)
    api, api_url = _start(["-m", "workers.cli", "serve"], env, log_dir / "bench-api.log")
    try:
        bodies = [
            (
                {"slot_id": str(b.slot_id)},
                mint_token(DEV_SIGNING_KEY, "slotwise", Role.PATIENT, b.patient_id),
            )
            for b in bookables
        ]
        seconds, latencies, failed = _load(api_url, "/v1/appointments", bodies)
    finally:
        api.terminate()
        api.wait(20)
    app = scheduling(db)
    try:
        sizes = event_sizes(app, head)
    finally:
        app.close()
    per_tx = max(round(len(sizes) / count), 1)
    size = int(sum(sizes) / len(sizes))
    import psycopg

    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute(BASELINE_DDL)
    raw_env = {**env, "BENCH_ROWS_PER_TX": str(per_tx), "BENCH_ROW_BYTES": str(size)}
    raw, raw_url = _start(["-m", "bench.raw_app"], raw_env, log_dir / "bench-raw.log")
    try:
        token = mint_token(DEV_SIGNING_KEY, "slotwise", Role.PATIENT, uuid.uuid4())
        raw_bodies = [({"slot_id": str(uuid.uuid4())}, token) for _ in range(count)]
        raw_seconds, raw_latencies, raw_failed = _load(raw_url, "/raw", raw_bodies)
    finally:
        raw.terminate()
        raw.wait(20)
    ours, base = count / seconds, count / raw_seconds
    return [
        f"## HTTP booking, {CLIENTS} concurrent clients, {count} requests each side",
        f"{'endpoint':<22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'non-201':>8}",
        f"{'POST /v1/appointments':<22} {ours:>7.0f} {percentile(latencies, 50) * 1000:>7.1f} "
        f"{percentile(latencies, 99) * 1000:>7.1f} {failed:>8}",
        f"{'raw insert endpoint':<22} {base:>7.0f} {percentile(raw_latencies, 50) * 1000:>7.1f} "
        f"{percentile(raw_latencies, 99) * 1000:>7.1f} {raw_failed:>8}",
        f"ratio http-booking: {ours / base:.2f} (ours / raw req/s)",
    ]
