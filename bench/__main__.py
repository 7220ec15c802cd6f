"""Run every benchmark section (or one) and print ratios measured side by side in this one run.

Each section prints its table and at least one line `ratio <name>: <value>`. `--quick` runs a
small version of every section (the whole run in about two minutes): enough to prove the code
runs and to see a rough ratio, not a figure to quote."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench import (
    audit,
    booking,
    export,
    http,
    privacy,
    projection_lag,
    queries,
    read_audit,
    rebuild,
    reminders,
    scale,
    search,
)
from bench.setup import bench_database


@dataclass(frozen=True)
class Sizes:
    """How much work each section does: the full run, or the quick one."""

    bookings: int
    lag_bookings: int
    rebuild_bookings: int
    search_scale: float
    audit_slots: int
    read_requests: int
    read_rounds: int
    query_seconds: float
    scale: scale.Sizes
    reminders: int


FULL = Sizes(
    400,
    200,
    1000,
    1.0,
    200,
    2000,
    read_audit.ROUNDS,
    10.0,
    scale.Sizes(10_000, 1_000_000, 200),
    10_000,
)
QUICK = Sizes(30, 8, 60, 0.02, 40, 150, 1, 1.0, scale.Sizes(1_000, 5_000, 10), 100)

Section = Callable[[Sizes, Path], Iterable[str]]


def _booking(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from booking.report(db, sizes.bookings)


def _http(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from http.report(db, sizes.bookings, logs)


def _queries(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from queries.report(db, sizes.bookings, sizes.query_seconds, logs)


def _scale(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from scale.report(db, sizes.scale)


def _projection_lag(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as kafka_db, bench_database() as direct_db:
        yield from projection_lag.report(kafka_db, direct_db, sizes.lag_bookings, 20.0, logs)


def _rebuild(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from rebuild.report(db, sizes.rebuild_bookings)


def _export(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from export.report(db, sizes.rebuild_bookings)


def _reminders(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from reminders.report(db, sizes.reminders, max(10, sizes.reminders // 20))


def _privacy(sizes: Sizes, logs: Path) -> Iterable[str]:
    yield from privacy.report(sizes.bookings)


def _search(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from search.report(db, sizes.search_scale)


def _audit(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from audit.report(db, sizes.audit_slots)


def _read_audit(sizes: Sizes, logs: Path) -> Iterable[str]:
    with bench_database() as db:
        yield from read_audit.report(db, 50, logs, sizes.read_requests, sizes.read_rounds)


# Every section, in the order a full run prints them.
SECTIONS: dict[str, Section] = {
    "booking": _booking,
    "http": _http,
    "queries": _queries,
    "projection-lag": _projection_lag,
    "rebuild": _rebuild,
    "export": _export,
    "scale": _scale,
    "privacy": _privacy,
    "search": _search,
    "audit": _audit,
    "read-audit": _read_audit,
    "reminders": _reminders,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--bookings", type=int, help="bookings per booking measurement")
    parser.add_argument("--quick", action="store_true", help="a small version of every section")
    parser.add_argument("--only", choices=sorted(SECTIONS), help="run this section only")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.bookings:
        sizes = Sizes(args.bookings, *list(vars(sizes).values())[1:])
    names = [args.only] if args.only else list(SECTIONS)
    print(f"bench: {'quick' if args.quick else 'full'} run of {', '.join(names)}", flush=True)
    with tempfile.TemporaryDirectory() as logs:
        for name in names:
            began = time.perf_counter()
            for line in SECTIONS[name](sizes, Path(logs)):
                print(line, flush=True)
            print(f"(section {name}: {time.perf_counter() - began:.1f} s)\n", flush=True)


if __name__ == "__main__":
    main()
