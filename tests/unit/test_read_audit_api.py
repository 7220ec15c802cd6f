"""Read audit at the HTTP edge (api/read_audit.py): each answer of a route that returns patient
data writes one access record before it is sent, refusals included, with ids only; a record
that cannot be stored turns the answer into a 503 rather than an unrecorded read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from domain.actor import Role
from projections.audit.access import WITHHELD, AccessRecord
from tests.builders import in_memory_app
from tests.fakes import (
    FixedClock,
    FixedPositions,
    MemoryAccessLog,
    RecordingSearch,
    StillAnalytics,
)
from tests.unit.test_api_edges import bearer, settings
from tests.unit.test_fhir import BOOKED, PATIENT, PROVIDER, Rows

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def access_log() -> MemoryAccessLog:
    return MemoryAccessLog()


@pytest.fixture
def client(access_log: MemoryAccessLog) -> Iterator[TestClient[Any]]:
    clock = FixedClock(NOW)
    services = Services(
        scheduling=in_memory_app(clock),
        queries=Rows(),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=clock,
        read_wait_seconds=0.01,
        max_page_size=50,
        access=access_log,
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def only(log: MemoryAccessLog) -> AccessRecord:
    assert len(log.records) == 1, log.records
    return log.records[0]


def test_reading_an_appointment_records_who_read_whose_appointment_and_why(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    staff = uuid.uuid4()
    correlation = str(uuid.uuid4())
    headers = {
        **bearer(Role.STAFF, staff),
        "X-Purpose-Of-Use": "TREAT",
        "X-Correlation-ID": correlation,
    }
    answer = client.get(f"/v1/appointments/{BOOKED.id}", headers=headers)
    assert answer.status_code == 200
    record = only(access_log)
    assert (record.actor_id, record.actor_role) == (staff, "staff")
    assert record.patient_ids == [PATIENT]
    assert record.resource_ids == [BOOKED.id]
    assert (record.resource_type, record.action, record.outcome) == ("Appointment", "read", 200)
    assert record.route == "/v1/appointments/{appointment_id}"
    assert record.purpose_of_use == "TREAT"
    assert record.correlation_id == correlation
    assert record.path_params == {"appointment_id": str(BOOKED.id)}


def test_someone_elses_appointment_is_a_404_recorded_with_whose_it_was(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    other = uuid.uuid4()
    answer = client.get(f"/v1/appointments/{BOOKED.id}", headers=bearer(Role.PATIENT, other))
    assert answer.status_code == 404
    record = only(access_log)
    assert (record.outcome, record.actor_id, record.patient_ids) == (404, other, [PATIENT])


def test_a_listing_records_every_patient_on_the_page_and_withholds_free_text(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    answer = client.get(
        "/v1/appointments", params={"limit": 10, "status": "booked"}, headers=bearer(Role.STAFF)
    )
    assert answer.status_code == 200
    record = only(access_log)
    assert record.action == "query"
    assert record.patient_ids == [PATIENT]
    assert record.query == {"limit": ["10"], "status": ["booked"]}
    access_log.records.clear()
    client.get("/v1/search/notes", params={"q": "diabetes"}, headers=bearer(Role.STAFF))
    assert only(access_log).query == {"q": [WITHHELD]}


def test_a_role_refused_by_a_guard_and_a_missing_token_are_recorded(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    stranger = uuid.uuid4()
    path = f"/v1/providers/{PROVIDER}/schedule?day=2030-01-08"
    assert client.get(path, headers=bearer(Role.PATIENT, stranger)).status_code == 403
    assert client.get(path).status_code == 401
    refused, anonymous = access_log.records
    assert (refused.outcome, refused.actor_id, refused.resource_type) == (403, stranger, "Schedule")
    assert (anonymous.outcome, anonymous.actor_id) == (401, None)


def test_routes_without_patient_data_write_no_record(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    assert client.get("/v1/slots/available", headers=bearer(Role.PATIENT)).status_code == 200
    assert client.get("/health").status_code == 200
    assert access_log.records == []


def test_a_read_that_cannot_be_recorded_is_refused_with_503_and_no_data(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    access_log.broken = True
    answer = client.get(f"/v1/appointments/{BOOKED.id}", headers=bearer(Role.STAFF))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in answer.headers
    assert str(PATIENT) not in answer.text
    assert answer.json()["status"] == 503


def test_a_fhir_appointment_read_records_the_patient_and_resource_it_answered(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    staff = uuid.uuid4()
    answer = client.get(f"/fhir/r4/Appointment/{BOOKED.id}", headers=bearer(Role.STAFF, staff))
    assert answer.status_code == 200
    record = only(access_log)
    assert (record.actor_id, record.actor_role) == (staff, "staff")
    assert record.patient_ids == [PATIENT]
    assert record.resource_ids == [BOOKED.id]
    assert (record.resource_type, record.action, record.outcome) == ("Appointment", "read", 200)
    assert record.route.startswith("/fhir/r4/Appointment/")


def test_a_refused_fhir_read_is_recorded_with_its_outcome_and_names_no_patient(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    stranger = uuid.uuid4()
    answer = client.get(f"/fhir/r4/Appointment/{BOOKED.id}", headers=bearer(Role.PATIENT, stranger))
    assert answer.status_code == 404
    record = only(access_log)
    assert (record.actor_id, record.outcome) == (stranger, 404)
    assert record.patient_ids == []


def test_the_fhir_capability_statement_is_not_a_read_of_patient_data(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    headers = bearer(Role.STAFF, uuid.uuid4())
    assert client.get("/fhir/r4/metadata", headers=headers).status_code == 200
    assert access_log.records == []
