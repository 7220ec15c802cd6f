"""`slotwise export parquet` throughput (events/s) beside a raw `COPY` of the same rows to a
file, in the same run (issue 14)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import psycopg

from bench.rebuild import _fill
from infra.parquet.export import ParquetExport
from infra.postgres.database import Database

COPY = (
    "COPY (SELECT notification_id, originator_id, originator_version, topic, state"
    " FROM slotwise_events ORDER BY notification_id) TO STDOUT"
)


def _copy(db: Database, target: Path) -> float:
    began = time.perf_counter()
    with (
        psycopg.connect(db.conninfo) as conn,
        target.open("wb") as out,
        conn.cursor().copy(COPY) as copy,
    ):
        for chunk in copy:
            out.write(chunk)
    return time.perf_counter() - began


def report(db: Database, bookings: int) -> list[str]:
    head = _fill(db, bookings)
    with tempfile.TemporaryDirectory() as scratch:
        copy_seconds = _copy(db, Path(scratch) / "events.copy")
        began = time.perf_counter()
        result = ParquetExport(db.conninfo, Path(scratch) / "parquet", lambda d, t: None).run()
        export_seconds = time.perf_counter() - began
    copy_rate = head / copy_seconds
    export_rate = result.events / export_seconds
    return [
        f"## Parquet export of the log ({result.events} events) and the facts, beside raw COPY",
        f"{'what':<34} {'events/s':>9}",
        f"{'COPY of the same rows to a file':<34} {copy_rate:>9.0f}",
        f"{'export parquet (log + facts)':<34} {export_rate:>9.0f}",
        f"ratio export: {export_rate / copy_rate:.2f} (export / COPY)",
    ]
