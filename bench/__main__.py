"""Run every benchmark and print ratios measured side by side in this one run."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench import (
    audit,
    booking,
    http,
    privacy,
    projection_lag,
    read_audit,
    rebuild,
    reminders,
    search,
)
from bench.setup import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--bookings", type=int, default=400, help="bookings per measurement")
    parser.add_argument(
        "--only",
        choices=["booking", "privacy", "audit", "read-audit", "reminders"],
        help="run one section only (a quick check of it)",
    )
    args = parser.parse_args()
    if args.only == "audit":
        with bench_database() as audit_db:
            for line in audit.report(audit_db, 200):
                print(line, flush=True)
        return
    if args.only == "reminders":
        with bench_database() as reminders_db:
            for line in reminders.report(reminders_db):
                print(line, flush=True)
        return
    if args.only == "read-audit":
        with tempfile.TemporaryDirectory() as logs, bench_database() as read_db:
            for line in read_audit.report(read_db, 200, Path(logs)):
                print(line, flush=True)
        return
    if args.only == "booking":
        with bench_database() as booking_db:
            for line in booking.report(booking_db, args.bookings):
                print(line, flush=True)
        return
    if args.only == "privacy":
        for line in privacy.report(args.bookings):
            print(line, flush=True)
        return
    with tempfile.TemporaryDirectory() as logs, bench_database() as db:
        print(f"bench: database {db.dbname}; {args.bookings} bookings per measurement", flush=True)
        for line in booking.report(db, args.bookings):
            print(line, flush=True)
        print(flush=True)
        for line in http.report(db, args.bookings, Path(logs)):
            print(line, flush=True)
        print(flush=True)
        with bench_database() as kafka_db, bench_database() as direct_db:
            for line in projection_lag.report(kafka_db, direct_db, 200, 20.0, Path(logs)):
                print(line, flush=True)
        print(flush=True)
        with bench_database() as rebuild_db:
            for line in rebuild.report(rebuild_db, 1000):
                print(line, flush=True)
        print(flush=True)
        for line in privacy.report(args.bookings):
            print(line, flush=True)
        print(flush=True)
        with bench_database() as search_db:
            for line in search.report(search_db):
                print(line, flush=True)
        print(flush=True)
        with bench_database() as audit_db:
            for line in audit.report(audit_db, 200):
                print(line, flush=True)
        print(flush=True)
        with bench_database() as read_db:
            for line in read_audit.report(read_db, 200, Path(logs)):
                print(line, flush=True)
        print(flush=True)
        with bench_database() as reminders_db:
            for line in reminders.report(reminders_db):
                print(line, flush=True)


if __name__ == "__main__":
    main()
