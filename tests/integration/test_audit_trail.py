"""Audit queries on PostgreSQL through the real API: a booking made over HTTP explains end to
end by its correlation id (command, actor, idempotency key, events with seals and checkpoints,
projections); a patient's trail interleaves the writes to their aggregates and the reads of
their data, time-ordered and paged; the anomaly report names a provider reading outside their
care relationship and actors over the threshold; only auditors get in, and their reads are
recorded too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from domain.actor import Role
from infra.audit.wiring import access_seals, seals
from infra.postgres.audit_trail import PostgresAuditTrail
from infra.postgres.database import Database, eventstore_env
from infra.postgres.server import PostgresLocation
from projections.audit.sealing import CheckpointPolicy
from projections.audit.trail import Thresholds
from tests.audit_support import api_settings, seal_to_end, serving
from tests.builders import create_slot, patient_registers, register_provider
from tests.conftest import auth, free_port
from tests.databases import database_of_its_own, project_live
from tests.keys import keyed_scheduling

# Signs at every batch, so the last events are covered by a checkpoint too.
EVERY_5 = CheckpointPolicy(every_events=5, every_seconds=0)


@dataclass(frozen=True)
class World:
    url: str
    patient: uuid.UUID
    appointment: uuid.UUID
    correlation: uuid.UUID
    stranger: uuid.UUID  # a provider with no appointment with the patient
    staff: uuid.UUID


@pytest.fixture(scope="module")
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "audit_trail") as fresh:
        yield fresh


@pytest.fixture(scope="module")
def world(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = api_settings(db, tmp_path_factory.mktemp("state"))
    with keyed_scheduling(db) as keyed:
        app: Scheduling = keyed(eventstore_env(db, 2))
        provider = register_provider(app)
        start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        slot = create_slot(app, provider, start=start)
        patient = patient_registers(app)
        correlation, staff, stranger = uuid.uuid4(), uuid.uuid4(), register_provider(app)
        with serving(settings, free_port()) as url:
            booked = httpx.post(
                f"{url}/v1/appointments",
                json={"slot_id": str(slot)},
                headers={
                    **auth(Role.PATIENT, patient),
                    "X-Correlation-ID": str(correlation),
                    "Idempotency-Key": "booking-1",
                },
            )
            assert booked.status_code == 201, booked.text
            appointment = uuid.UUID(booked.json()["id"])
            project_live(eventstore_env(db, 2), app.head_position(), keyed)
            read = f"{url}/v1/appointments/{appointment}"
            assert httpx.get(read, headers=auth(Role.STAFF, staff)).status_code == 200
            assert httpx.get(read, headers=auth(Role.PROVIDER, stranger)).status_code == 404
            with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
                assert seal_to_end(seals(settings, app, pool), EVERY_5)
                seal_to_end(access_seals(settings, pool), EVERY_5)
            try:
                yield World(url, patient, appointment, correlation, stranger, staff)
            finally:
                app.close()


def ask(world: World, path: str, role: Role = Role.AUDITOR, **params: Any) -> httpx.Response:
    return httpx.get(f"{world.url}{path}", params=params, headers=auth(role), timeout=30)


def test_a_booking_explains_end_to_end_by_its_correlation_id(world: World) -> None:
    answer = ask(world, f"/v1/audit/explain/{world.correlation}")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["commands"] == ["BookAppointment"]
    assert found["actors"] == [str(world.patient)]
    assert found["idempotency_keys"] == ["booking-1"]
    types = [e["event_type"].rsplit(":", 1)[1] for e in found["events"]]
    assert "Appointment.Scheduled" in types
    assert "Slot.SeatTaken" in types
    positions = [e["position"] for e in found["events"]]
    assert positions == sorted(positions)
    for event in found["events"]:
        assert event["causation_id"] == str(world.correlation)  # a request is its own cause
        assert len(event["seal"]["leaf_hash"]) == 64
        assert event["seal"]["checkpoint_size"] > event["seal"]["leaf_index"]
    assert {p["projection"]: p["applied"] for p in found["projections"]}["scheduling"]
    assert ask(world, f"/v1/audit/explain/{uuid.uuid4()}").status_code == 404


def test_a_patients_trail_interleaves_writes_and_reads_in_time_order(world: World) -> None:
    answer = ask(world, f"/v1/audit/patients/{world.patient}/trail", limit=200)
    assert answer.status_code == 200, answer.text
    entries = answer.json()["items"]
    writes = [e for e in entries if e["kind"] == "write"]
    reads = [e for e in entries if e["kind"] == "read"]
    assert {"RegisterPatient", "BookAppointment"} <= {w["what"] for w in writes}
    assert {(r["actor_id"], r["outcome"]) for r in reads} >= {
        (str(world.staff), 200),
        (str(world.stranger), 404),
    }
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    first = ask(world, f"/v1/audit/patients/{world.patient}/trail", limit=2, order="oldest")
    page = first.json()
    assert page["next_offset"] == 2
    assert page["items"][0]["what"] == "RegisterPatient"


def test_events_and_access_records_are_found_by_patient_and_actor(world: World) -> None:
    mine = ask(world, "/v1/audit/events", patient_id=str(world.patient)).json()["items"]
    assert mine
    assert {e["patient_id"] for e in mine} == {str(world.patient)}
    by_actor = ask(
        world, "/v1/audit/events", actor_id=str(world.patient), command="BookAppointment"
    )
    assert {e["command"] for e in by_actor.json()["items"]} == {"BookAppointment"}
    reads = ask(world, "/v1/audit/access", patient_id=str(world.patient), order="oldest")
    staff_read = next(r for r in reads.json()["items"] if r["actor_id"] == str(world.staff))
    assert staff_read["resource_ids"] == [str(world.appointment)]
    assert staff_read["seal"]["log"] == "slotwise/access-log"


def test_the_anomaly_report_names_reads_outside_care_and_heavy_readers(world: World) -> None:
    answer = ask(world, "/v1/audit/anomalies", threshold=0)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    outside = {(o["actor_id"], o["patient_id"]) for o in report["outside_care"]}
    assert outside == {(str(world.stranger), str(world.patient))}
    assert str(world.staff) in {h["actor_id"] for h in report["heavy_readers"]}
    assert ask(world, "/v1/audit/anomalies").json()["threshold"] == 50


def test_only_auditors_query_the_trail_and_their_reads_are_recorded(world: World) -> None:
    path = f"/v1/audit/patients/{world.patient}/trail"
    for role in (Role.PATIENT, Role.PROVIDER, Role.STAFF, Role.ANALYST):
        assert ask(world, path, role=role).status_code == 403
    auditor = uuid.uuid4()
    answer = httpx.get(f"{world.url}{path}", headers=auth(Role.AUDITOR, auditor))
    assert answer.status_code == 200
    mine = ask(world, "/v1/audit/access", actor_id=str(auditor)).json()["items"]
    assert [(r["route"], r["patient_ids"]) for r in mine] == [
        ("/v1/audit/patients/{patient_id}/trail", [str(world.patient)])
    ]


def test_each_role_is_held_to_its_own_threshold(world: World, db: Database) -> None:
    now = datetime.now(UTC)
    with ConnectionPool(db.conninfo, min_size=1, max_size=1) as pool:
        trail = PostgresAuditTrail(pool, "slotwise/event-log", "slotwise/access-log", [])

        def heavy(limits: Thresholds) -> dict[str, int]:
            report = trail.anomalies(now - timedelta(hours=1), now + timedelta(hours=1), limits)
            return {
                str(h.actor_id): h.threshold
                for h in report.heavy_readers
                if h.actor_id in (world.staff, world.stranger)
            }

        # The staff member and the stranger each read one patient.
        assert heavy(Thresholds(0)) == {str(world.staff): 0, str(world.stranger): 0}
        assert heavy(Thresholds(0, {"staff": 1})) == {str(world.stranger): 0}
        assert heavy(Thresholds(5, {"provider": 0})) == {str(world.stranger): 0}
        assert heavy(Thresholds(1, {"staff": 0, "provider": 0})) == {
            str(world.staff): 0,
            str(world.stranger): 0,
        }
