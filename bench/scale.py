"""Behaviour as the log grows, with events created fast by COPY (not through the API): the
resident memory of a rebuild (`slotwise projections rebuild scheduling`, its own process) of a
small and of a large log, and the latency of a booking appended to a store of a small and of a
large log. Each prints its large ÷ small ratio (flat is 1.0).

The events are copies of real bookings' events (registration, slot, booking) under fresh
aggregate ids, so they decode and project like the originals."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from bench.booking import booking_work
from bench.http import server_env
from bench.setup import Bookable, make_bookables, percentile, scheduling
from infra.postgres.database import Database, events_table


@dataclass(frozen=True)
class Sizes:
    small: int
    large: int
    appends: int


def _copy_until(db: Database, table: str, total: int) -> int:
    """COPY replicas of the log's first events (fresh aggregate ids) until it holds `total`."""
    with psycopg.connect(db.conninfo) as conn:
        template = conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} "
            "ORDER BY notification_id LIMIT 2000"
        ).fetchall()
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        have = int(row[0]) if row else 0
        columns = "originator_id, originator_version, topic, state"
        while have < total:
            fresh: dict[uuid.UUID, uuid.UUID] = {}
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for originator, version, topic, state in template[: total - have]:
                    new = fresh.setdefault(originator, uuid.uuid4())
                    copy.write_row((new, version, topic, state))
            conn.commit()
            have += min(len(template), total - have)
        conn.execute(f"ANALYZE {table}")
        conn.commit()
    return have


def _rebuild_rss_mb(db: Database) -> tuple[float, float]:
    """Peak resident memory (MB) and seconds of a rebuild of scheduling in its own process."""
    env = server_env(db)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "projections", "rebuild", "scheduling"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise RuntimeError(
            f"the rebuild failed: {process.stderr.read()[-2000:] if process.stderr else ''!r}"
        )
    return usage.ru_maxrss / 1024, seconds


def _append_latencies(db: Database, bookables: list[Bookable]) -> list[float]:
    app = scheduling(db, pool_size=3)
    try:
        latencies = []
        for work in booking_work(app, bookables):
            began = time.perf_counter()
            work()
            latencies.append(time.perf_counter() - began)
        return latencies
    finally:
        app.close()


def report(db: Database, sizes: Sizes) -> Iterator[str]:
    app = scheduling(db, pool_size=2)
    try:
        table = events_table(app)
        bookables = make_bookables(app, 2 * sizes.appends)
    finally:
        app.close()
    _copy_until(db, table, sizes.small)
    small_rss, small_s = _rebuild_rss_mb(db)
    small_lat = _append_latencies(db, bookables[: sizes.appends])
    large = _copy_until(db, table, sizes.large)
    large_rss, large_s = _rebuild_rss_mb(db)
    large_lat = _append_latencies(db, bookables[sizes.appends :])
    yield f"## Growth: rebuild memory and append latency, {sizes.small} vs {large} stored events"
    yield f"{'what':<34} {'small':>9} {'large':>9}"
    yield f"{'rebuild peak RSS, MB':<34} {small_rss:>9.0f} {large_rss:>9.0f}"
    yield f"{'rebuild events/s':<34} {sizes.small / small_s:>9.0f} {large / large_s:>9.0f}"
    for q in (50, 99):
        yield (
            f"{f'booking append p{q}, ms':<34} {percentile(small_lat, q) * 1000:>9.1f} "
            f"{percentile(large_lat, q) * 1000:>9.1f}"
        )
    yield f"ratio scale-rebuild-rss: {large_rss / small_rss:.2f} (large ÷ small; goal ≤ 300 MB)"
    yield (
        f"ratio scale-append: {percentile(large_lat, 50) / percentile(small_lat, 50):.2f} "
        "(p50 large ÷ small; goal ≤ 1.2)"
    )
