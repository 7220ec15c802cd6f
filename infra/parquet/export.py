"""`slotwise export parquet DIR`: the event log and the analytics facts as Parquet files, through
ADBC into Arrow record batches and pyarrow's dataset writer (no Python loop over rows).

Layout under DIR (hive-style partitions by the UTC day):
- `events/<Aggregate.Event>/date=YYYY-MM-DD/part-<from>-<to>-<n>.parquet`: position, aggregate
  id, type, version, recorded time, actor role, command, correlation id, and the payload's
  exportable columns (infra/parquet/columns.py); appended, one set of files per run.
- `facts/<table>/date=.../part-<position>-<n>.parquet`: a snapshot of each fact table at the
  analytics projection's position, replaced on each run.
Every file's schema metadata names the positions it covers (`slotwise.from_position`,
`slotwise.to_position`) and the audit log's latest checkpoint size. `DIR/_export.json` keeps
the last exported position, so a run resumes after it unless `since` is given."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from infra.parquet.columns import (
    AMOUNT_PRECISION,
    AMOUNT_SCALE,
    FACT_CASTS,
    FACTS,
    event_classes,
    event_columns,
)
from projections.integration import PUBLISHED_AGGREGATES

EVENTS_TABLE = "slotwise_events"
STATE_FILE = "_export.json"
HEAD = f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"  # noqa: S608 - constant
TOPICS = (
    f"SELECT topic, count(*) FROM {EVENTS_TABLE}"  # noqa: S608 - constant
    " WHERE notification_id > $1 AND notification_id <= $2 GROUP BY topic ORDER BY topic"
)
COUNT = "SELECT count(*) FROM {}"  # table names from FACTS, ours
Progress = Callable[[int, int], None]

EVENT_BASE = """
SELECT notification_id AS position,
       originator_id::text AS aggregate_id,
       split_part(topic, ':', 2) AS type,
       originator_version AS version,
       (j -> 'timestamp' ->> '_data_')::timestamptz AS recorded_at,
       (j -> 'meta' -> '_data_' ->> 'actor_role') AS actor_role,
       (j -> 'meta' -> '_data_' ->> 'command') AS command,
       (j -> 'meta' -> '_data_' -> 'correlation_id' ->> '_data_')::uuid::text
           AS correlation_id,
       ((j -> 'timestamp' ->> '_data_')::timestamptz AT TIME ZONE 'UTC')::date
           AS date{columns}
  FROM (SELECT notification_id, originator_id, originator_version, topic,
               convert_from(state, 'UTF8')::jsonb AS j
          FROM slotwise_events
         WHERE topic = $1 AND notification_id > $2 AND notification_id <= $3) e
"""


@dataclass(frozen=True)
class ExportResult:
    from_position: int
    to_position: int
    events: int
    facts: dict[str, int]
    checkpoint_size: int | None


def _amounts(batch: pa.RecordBatch, amounts: set[str]) -> pa.RecordBatch:
    """Amount columns (text from PostgreSQL) as exact decimals; the rest as they came."""
    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if field.name in amounts:
            column = pc.cast(column, pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE))
        columns.append(column)
    names = [field.name for field in batch.schema]
    return pa.RecordBatch.from_arrays(columns, names=names)


class ParquetExport:
    def __init__(self, conninfo: str, directory: Path, progress: Progress) -> None:
        self._conninfo = conninfo
        self._directory = directory
        self._progress = progress
        self._classes = event_classes(PUBLISHED_AGGREGATES)

    def _scalar(self, conn: Any, query: str, *params: Any) -> Any:
        cursor = conn.cursor()
        try:
            cursor.execute(query, parameters=params or None)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else row[0]

    def _write(
        self,
        conn: Any,
        query: str,
        params: tuple[Any, ...],
        target: Path,
        basename: str,
        stamp: dict[str, str],
        amounts: set[str],
        counted: Callable[[int], None],
    ) -> int:
        cursor = conn.cursor()
        written = 0
        try:
            cursor.execute(query, parameters=params or None)
            reader = cursor.fetch_record_batch()
            schema = pa.schema(
                [
                    pa.field(f.name, pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE))
                    if f.name in amounts
                    else pa.field(f.name, f.type)
                    for f in reader.schema
                ],
                metadata=stamp,
            )

            def batches() -> Iterator[pa.RecordBatch]:
                nonlocal written
                for batch in reader:
                    converted = _amounts(batch, amounts)
                    written += converted.num_rows
                    counted(converted.num_rows)
                    yield pa.RecordBatch.from_arrays(converted.columns, schema=schema)

            ds.write_dataset(
                batches(),
                base_dir=str(target),
                schema=schema,
                format="parquet",
                partitioning=ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive"),
                file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
                basename_template=basename + "-{i}.parquet",
                existing_data_behavior="overwrite_or_ignore",
            )
        finally:
            cursor.close()
        return written

    def _since(self, since: int | None) -> int:
        if since is not None:
            return since
        state = self._directory / STATE_FILE
        if state.exists():
            return int(json.loads(state.read_text())["position"])
        return 0

    def run(self, since: int | None = None) -> ExportResult:
        self._directory.mkdir(parents=True, exist_ok=True)
        start = self._since(since)
        with adbc.connect(self._conninfo) as conn:
            head = int(self._scalar(conn, HEAD))
            checkpoint = self._scalar(
                conn, "SELECT max(size) FROM audit_checkpoints WHERE log = 'events'"
            )
            facts_at = int(
                self._scalar(
                    conn,
                    "SELECT coalesce(max(notification_id), 0) FROM analytics_tracking"
                    " WHERE application_name = 'Slotwise'",
                )
            )
            topics = self._topics(conn, start, head)
            fact_rows = {t: int(self._scalar(conn, COUNT.format(t))) for t in FACTS}
            total = sum(topics.values()) + sum(fact_rows.values())
            done = 0

            def counted(rows: int) -> None:
                nonlocal done
                done += rows
                self._progress(done, total)

            self._progress(0, total)
            size = "" if checkpoint is None else str(checkpoint)
            events = 0
            for topic in topics:
                stamp = {
                    "slotwise.from_position": str(start),
                    "slotwise.to_position": str(head),
                    "slotwise.checkpoint_size": size,
                }
                events += self._events(conn, topic, start, head, stamp, counted)
            facts = {table: self._facts(conn, table, facts_at, size, counted) for table in FACTS}
        (self._directory / STATE_FILE).write_text(json.dumps({"position": head}))
        return ExportResult(
            start, head, events, facts, None if checkpoint is None else int(checkpoint)
        )

    def _topics(self, conn: Any, start: int, head: int) -> dict[str, int]:
        cursor = conn.cursor()
        try:
            cursor.execute(TOPICS, parameters=(start, head))
            return {str(topic): int(n) for topic, n in cursor.fetchall()}
        finally:
            cursor.close()

    def _events(
        self,
        conn: Any,
        topic: str,
        start: int,
        head: int,
        stamp: dict[str, str],
        counted: Callable[[int], None],
    ) -> int:
        event_class = self._classes.get(topic)
        name = topic.rsplit(":", 1)[-1]
        columns = (
            event_columns(event_class, name.split(".", 1)[0]) if event_class is not None else []
        )
        select = "".join(f',\n       {sql} AS "{column}"' for column, sql, _ in columns)
        query = EVENT_BASE.format(columns=select)
        amounts = {column for column, _, amount in columns if amount}
        target = self._directory / "events" / name
        basename = f"part-{start}-{head}"
        return self._write(
            conn, query, (topic, start, head), target, basename, stamp, amounts, counted
        )

    def _facts(
        self, conn: Any, table: str, position: int, size: str, counted: Callable[[int], None]
    ) -> int:
        partition_on, columns = FACTS[table]
        select = ", ".join(f"{c}{FACT_CASTS[kind]} AS {c}" for c, kind in columns.items())
        query = (
            f"SELECT {select}, ({partition_on} AT TIME ZONE 'UTC')::date AS date"  # noqa: S608 - ours
            f" FROM {table}"
        )
        target = self._directory / "facts" / table
        shutil.rmtree(target, ignore_errors=True)
        stamp = {
            "slotwise.from_position": "0",
            "slotwise.to_position": str(position),
            "slotwise.checkpoint_size": size,
        }
        amounts = {c for c, kind in columns.items() if kind == "amount"}
        return self._write(conn, query, (), target, f"part-{position}", stamp, amounts, counted)
