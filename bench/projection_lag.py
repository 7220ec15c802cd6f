"""Projection lag (commit → visible in the read model) at a steady command rate, through
Kafka (relay → Tansu → projection worker) beside the direct event-store runner."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from bench.setup import ROOT, make_bookables, percentile, scheduling
from commands.appointments.messages import BookAppointment
from commands.context import CommandContext
from domain.actor import Actor, Role
from infra.devstack.kafka_broker import start_tansu
from infra.postgres.database import Database


def _watermark(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute(
        "SELECT notification_id FROM scheduling_tracking WHERE application_name = 'Slotwise'"
    ).fetchone()
    position = row[0] if row else None
    return position if isinstance(position, int) else 0


def _measure(db: Database, count: int, rate: float) -> list[float]:
    app = scheduling(db, pool_size=2)
    try:
        bookables = make_bookables(app, count)
        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while _watermark(conn) < app.head_position():
                if time.monotonic() > deadline:
                    raise RuntimeError("the projection did not catch up with the set-up")
                time.sleep(0.01)
            pending: dict[int, float] = {}
            lags: list[float] = []
            lock = threading.Lock()
            done = threading.Event()

            def watch() -> None:
                with psycopg.connect(db.conninfo, autocommit=True) as watcher:
                    while not done.is_set() or pending:
                        mark = _watermark(watcher)
                        now = time.perf_counter()
                        with lock:
                            for position in [p for p in pending if p <= mark]:
                                lags.append(now - pending.pop(position))
                        time.sleep(0.001)

            thread = threading.Thread(target=watch)
            thread.start()
            interval = 1.0 / rate
            start = time.perf_counter()
            for n, b in enumerate(bookables):
                time.sleep(max(0.0, start + n * interval - time.perf_counter()))
                ctx = CommandContext(Actor(b.patient_id, Role.PATIENT))
                result = app.book(BookAppointment(slot_id=b.slot_id), ctx)
                with lock:
                    pending[result.position] = time.perf_counter()
            done.set()
            thread.join(timeout=60)
            return lags
    finally:
        app.close()


def _workers(
    args_list: list[list[str]], env: dict[str, str], logs: Path
) -> list[subprocess.Popen[bytes]]:
    out = []
    for n, args in enumerate(args_list):
        with (logs / f"lag-{n}.log").open("ab") as log:
            out.append(
                subprocess.Popen(
                    [sys.executable, "-m", "workers.cli", *args], env=env, stdout=log, stderr=log
                )
            )
    return out


def report(
    kafka_db: Database, direct_db: Database, count: int, rate: float, logs: Path
) -> list[str]:
    base = {
        **os.environ,
        "SLOTWISE_MODE": "test",
        "PYTHONPATH": str(ROOT),
    }
    lines = [
        f"## Projection lag, commit → visible, {count} bookings at {rate:.0f}/s",
        f"{'path':<28} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}",
    ]
    broker = start_tansu(logs / "tansu.log")
    env = {**base, "DATABASE_URL": kafka_db.conninfo, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
    children = _workers(
        [["worker", "relay"], ["worker", "project", "scheduling", "--source", "kafka"]], env, logs
    )
    try:
        kafka = _measure(kafka_db, count, rate)
    finally:
        for child in children:
            child.terminate()
            child.wait(20)
        broker.stop()
    env = {**base, "DATABASE_URL": direct_db.conninfo}
    log_source = ["worker", "project", "scheduling", "analytics", "search", "--source", "log"]
    children = _workers([log_source], env, logs)
    try:
        direct = _measure(direct_db, count, rate)
    finally:
        for child in children:
            child.terminate()
            child.wait(20)
    for label, lags in (("Kafka (relay→Tansu→worker)", kafka), ("direct (event store)", direct)):
        lines.append(
            f"{label:<28} {percentile(lags, 50) * 1000:>7.1f} {percentile(lags, 99) * 1000:>7.1f} "
            f"{max(lags) * 1000:>7.1f}"
        )
    lines.append(
        f"ratio projection-lag: {percentile(kafka, 50) / percentile(direct, 50):.2f} "
        "(p50, Kafka / direct)"
    )
    return lines
