"""Booking throughput through the application layer, beside plain psycopg inserting the same
rows (count and size) with the same durability from the same number of connections."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from bench.setup import Bookable, make_bookables, percentile, scheduling
from commands.appointments.messages import BookAppointment
from commands.context import CommandContext
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from infra.postgres.database import Database


@dataclass(frozen=True)
class Run:
    operations: int
    rows: int
    seconds: float
    latencies: list[float]

    @property
    def ops_per_s(self) -> float:
        return self.operations / self.seconds

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def run_threads(writers: int, work: list[Callable[[], int]]) -> Run:
    """Run `work` items split across `writers` threads; each item returns rows it wrote."""
    lock = threading.Lock()
    latencies: list[float] = []
    rows = [0]
    chunks = [work[i::writers] for i in range(writers)]
    barrier = threading.Barrier(writers + 1)

    def worker(items: list[Callable[[], int]]) -> None:
        barrier.wait()
        mine: list[float] = []
        written = 0
        for item in items:
            began = time.perf_counter()
            written += item()
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)
            rows[0] += written

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return Run(len(work), rows[0], time.perf_counter() - began, latencies)


def event_sizes(app: Scheduling, since: int) -> list[int]:
    """Sizes of the stored states of the events recorded after `since`."""
    notifications = app.recorder.select_notifications(start=since + 1, limit=1_000_000)
    return [len(n.state) for n in notifications]


BASELINE_DDL = """
CREATE TABLE IF NOT EXISTS bench_baseline (
    notification_id bigserial PRIMARY KEY,
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    UNIQUE (originator_id, originator_version)
)
"""


def baseline_work(conninfo: str, writers: int, sizes: list[int], per_tx: int, count: int) -> Run:
    """Plain psycopg: `count` transactions of `per_tx` rows each of the measured sizes, from
    `writers` connections opened before the clock starts (the application's pool is open too)."""
    topic = "domain.appointment:Appointment.Scheduled"
    opened = [psycopg.connect(conninfo) for _ in range(writers)]
    idle = list(opened)
    taken = threading.Lock()
    local = threading.local()

    def connection() -> psycopg.Connection[tuple[object, ...]]:
        if not hasattr(local, "conn"):
            with taken:
                local.conn = idle.pop()
        conn: psycopg.Connection[tuple[object, ...]] = local.conn
        return conn

    def one(n: int) -> Callable[[], int]:
        def run() -> int:
            conn = connection()
            rows = [
                (uuid.uuid4(), 1, topic, b"x" * sizes[(n * per_tx + i) % len(sizes)])
                for i in range(per_tx)
            ]
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bench_baseline "
                    "(originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                    rows,
                )
            return per_tx

        return run

    try:
        return run_threads(writers, [one(n) for n in range(count)])
    finally:
        for conn in opened:
            conn.close()


def booking_work(app: Scheduling, bookables: list[Bookable]) -> list[Callable[[], int]]:
    def one(b: Bookable) -> Callable[[], int]:
        def run() -> int:
            ctx = CommandContext(Actor(b.patient_id, Role.PATIENT))
            app.book(BookAppointment(slot_id=b.slot_id), ctx)
            return 0

        return run

    return [one(b) for b in bookables]


def merged(runs: list[Run]) -> Run:
    return Run(
        sum(r.operations for r in runs),
        sum(r.rows for r in runs),
        sum(r.seconds for r in runs),
        [v for r in runs for v in r.latencies],
    )


# Each measurement alternates ours and the baseline this many times, a sixth of the bookings
# each, so that load from other processes on the machine falls on both sides alike.
ROUNDS = 6


def measure(db: Database, writers: int, count: int) -> tuple[Run, Run, float]:
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute(BASELINE_DDL)
        conn.execute("TRUNCATE bench_baseline")
    app = scheduling(db, pool_size=writers + 2)
    ours: list[Run] = []
    base: list[Run] = []
    try:
        bookables = make_bookables(app, count)
        rounds = max(1, min(ROUNDS, count // writers))
        for n in range(rounds):
            chunk = bookables[n::rounds]
            head = app.head_position()
            run = run_threads(writers, booking_work(app, chunk))
            sizes = event_sizes(app, head)
            ours.append(Run(run.operations, len(sizes), run.seconds, run.latencies))
            per_tx = max(round(len(sizes) / len(chunk)), 1)
            base.append(baseline_work(db.conninfo, writers, sizes, per_tx, len(chunk)))
    finally:
        app.close()
    mine = merged(ours)
    return mine, merged(base), mine.rows / mine.operations


# Writer counts measured, each beside the raw baseline at the same count.
WRITERS = (1, 4, 16)


def report(db: Database, count: int) -> list[str]:
    lines = [
        "## Booking through the application layer vs plain psycopg (same rows, same durability)",
        f"{'writers':>7} {'bookings/s':>11} {'events/s':>9} {'base tx/s':>10} "
        f"{'base rows/s':>11} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'base p99':>8}",
    ]
    ratios: dict[int, float] = {}
    for writers in WRITERS:
        ours, base, per_booking = measure(db, writers, count)
        ratio = ratios[writers] = ours.rows_per_s / base.rows_per_s
        lines.append(
            f"{writers:>7} {ours.ops_per_s:>11.0f} {ours.rows_per_s:>9.0f} {base.ops_per_s:>10.0f} "
            f"{base.rows_per_s:>11.0f} {ratio:>6.2f} "
            f"{percentile(ours.latencies, 50) * 1000:>7.1f} "
            f"{percentile(ours.latencies, 99) * 1000:>7.1f} "
            f"{percentile(base.latencies, 99) * 1000:>8.1f}"
        )
    lines.append(f"(events per booking: {per_booking:.1f}; ratio = our events/s ÷ baseline rows/s)")
    lines += [f"ratio booking-{w}w: {r:.2f}" for w, r in ratios.items()]
    return lines
