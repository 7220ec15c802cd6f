"""The Parquet export (issue 14) on PostgreSQL: the log and the facts round-trip, DuckDB
reproduces the API's appointment totals from the files alone, a second run resumes after the
first, and no file holds a patient's personal data (the history seeds some everywhere it can)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CancelAppointment
from commands.directory.messages import PatientDetails, RegisterPatient
from commands.payments.messages import RecordPayment
from commands.scheduling import Scheduling
from infra.parquet.export import ParquetExport
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from tests.builders import T0, as_staff, book, create_slot, register_provider
from tests.fakes import FixedClock
from tests.integration.analytics_support import played_and_projected, visit

PERSONAL = ("Ada Quartermaine", "ada.q@example.org", "+4930111222", "10115", "sore knee", "x-ray")
FROM, TO = T0, T0 + timedelta(days=7)


@dataclass(frozen=True)
class History:
    provider_id: UUID
    patient_id: UUID


def play(app: Scheduling, clock: FixedClock) -> History:
    provider = register_provider(app, "UTC")
    details = PatientDetails(
        name=PERSONAL[0],
        email=PERSONAL[1],
        phone=PERSONAL[2],
        postal_code=PERSONAL[3],
        birth_date=date(1980, 5, 17),
        sex="female",
        time_zone="UTC",
    )
    patient = app.register_patient(RegisterPatient(details=details), as_staff()).id
    starts = [T0 + timedelta(days=1, hours=h) for h in range(4)]
    ids = [book(app, create_slot(app, provider, s), patient, reason=PERSONAL[4]).id for s in starts]
    app.cancel(CancelAppointment(appointment_id=ids[3], reason=PERSONAL[4]), as_staff())
    visit(app, clock, ids[0], starts[0], notes=PERSONAL[5])
    payment = RecordPayment(
        appointment_id=ids[0],
        amount=Decimal("45.50"),
        currency="EUR",
        method="card",
        external_reference="ch_9",
    )
    app.record_payment(payment, as_staff())
    return History(provider, patient)


@pytest.fixture(scope="module")
def history(store_env: dict[str, str], scheduling_class: type[Scheduling]) -> Iterator[History]:
    with played_and_projected(store_env, scheduling_class, FixedClock(T0), play) as played:
        yield played


@pytest.fixture(scope="module")
def exported(
    database: Database, history: History, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[tuple[int, int]]]:
    directory = tmp_path_factory.mktemp("export")
    seen: list[tuple[int, int]] = []
    ParquetExport(database.conninfo, directory, lambda d, t: seen.append((d, t))).run()
    return directory, seen


def files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.parquet"))


def test_duckdb_reproduces_the_apis_appointment_totals_from_the_files(
    database: Database, exported: tuple[Path, Any]
) -> None:
    directory, _ = exported
    with ConnectionPool(database.conninfo, min_size=1, max_size=1, open=True) as pool:
        totals = PostgresAnalyticsQueries(pool).appointments(FROM, TO, None).totals
    glob = str(directory / "facts" / "an_appointments" / "**" / "*.parquet")
    row = duckdb.execute(
        f"""SELECT count(*), count(booked_at),
                   count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE status = 'cancelled' AND booked_at IS NOT NULL)
              FROM read_parquet('{glob}', hive_partitioning = true)
             WHERE start_at >= TIMESTAMPTZ '{FROM.isoformat()}'
               AND start_at < TIMESTAMPTZ '{TO.isoformat()}'"""
    ).fetchall()[0]
    assert row == (totals.appointments, totals.booked, totals.completed, totals.cancelled)
    assert row == (4, 4, 1, 1)
    paid = duckdb.execute(
        f"SELECT sum(amount), any_value(currency) FROM "
        f"read_parquet('{directory}/facts/an_payments/**/*.parquet', hive_partitioning = true)"
    ).fetchall()[0]
    assert paid == (Decimal("45.50"), "EUR")


def test_the_log_round_trips_every_position_once_with_its_stamp(
    database: Database, exported: tuple[Path, list[tuple[int, int]]]
) -> None:
    directory, seen = exported
    tables = [pq.read_table(p) for p in files(directory / "events")]
    positions = sorted(p for t in tables for p in t.column("position").to_pylist())
    with psycopg.connect(database.conninfo) as conn:
        stored = [
            r[0]
            for r in conn.execute(
                "SELECT notification_id FROM slotwise_events ORDER BY 1"
            ).fetchall()
        ]
    assert positions == stored
    metadata = pq.read_schema(files(directory / "events")[0]).metadata
    assert metadata[b"slotwise.to_position"] == str(stored[-1]).encode()
    assert b"slotwise.checkpoint_size" in metadata
    assert seen[-1][0] == seen[-1][1] > 0  # the progress reached its total
    scheduled = pq.read_table(
        next(p for p in files(directory / "events") if "Appointment.Scheduled" in str(p))
    )
    assert {"patient_id", "slot_id", "start", "appointment_type", "recorded_at"} <= set(
        scheduled.column_names
    )
    assert "reason" not in scheduled.column_names
    amounts = pq.read_table(next(p for p in files(directory) if "PaymentRecorded" in str(p)))
    assert amounts.schema.field("amount").type == pa.decimal128(18, 2)


def test_no_file_holds_personal_data(exported: tuple[Path, Any]) -> None:
    directory, _ = exported
    for path in files(directory):
        table = pq.read_table(path)
        assert not {"name", "email", "phone", "postal_code", "birth_date", "notes"} & set(
            table.column_names
        ), path
        text = str(table.to_pylist())
        for value in PERSONAL:
            assert value not in text, (path, value)


def test_a_second_run_resumes_after_the_first(
    database: Database,
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
    history: History,
    exported: tuple[Path, Any],
) -> None:
    directory, _ = exported
    before = len(files(directory / "events"))
    app = scheduling_class(store_env)
    try:
        create_slot(app, history.provider_id, datetime(2026, 12, 20, 9, tzinfo=UTC))
    finally:
        app.close()
    result = ParquetExport(database.conninfo, directory, lambda d, t: None).run()
    with psycopg.connect(database.conninfo) as conn:
        [(new,)] = conn.execute(
            "SELECT count(*) FROM slotwise_events WHERE notification_id > %s",
            (result.from_position,),
        ).fetchall()
    assert result.events == new >= 2  # the slot and the calendar's entry, nothing earlier
    assert result.from_position < result.to_position
    positions = [
        p
        for f in files(directory / "events")
        for p in pq.read_table(f).column("position").to_pylist()
    ]
    with psycopg.connect(database.conninfo) as conn:
        [(stored,)] = conn.execute("SELECT count(*) FROM slotwise_events").fetchall()
    assert len(positions) == len(set(positions)) == stored
    assert len(files(directory / "events")) > before
