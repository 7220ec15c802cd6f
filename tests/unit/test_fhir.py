"""The FHIR R4 facade's Appointment read, search and $cancel on in-memory services: resources
pass the three checks (tests/fhir_checks.py), access is the JSON API's, errors are
OperationOutcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from commands.scheduling import Scheduling
from domain.actor import Role
from projections.queries import AppointmentFilter, AppointmentView, Page
from tests.builders import (
    appointment_of,
    book,
    create_slot,
    in_memory_app,
    register_patient,
    register_provider,
)
from tests.fakes import (
    FixedClock,
    FixedPositions,
    ListedDirectory,
    RecordingSearch,
    StillAnalytics,
    StillQueries,
)
from tests.fhir_checks import check
from tests.unit.test_api_edges import bearer, settings

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
PATIENT = uuid.uuid4()
PROVIDER = uuid.uuid4()


def view(status: str, fhir_status: str, **fields: Any) -> AppointmentView:
    start = NOW + timedelta(days=1)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "patient_id": PATIENT,
        "provider_id": PROVIDER,
        "slot_id": uuid.uuid4(),
        "start": start,
        "end": start + timedelta(minutes=30),
        "appointment_type": "checkup",
        "status": status,
        "fhir_status": fhir_status,
        "reason": "",
        "hold_expires_at": None,
        "booked_at": NOW,
        "confirmed_at": None,
        "checked_in_at": None,
        "started_at": None,
        "completed_at": None,
        "cancelled_at": None,
        "no_show_at": None,
        "wait_seconds": None,
        "duration_seconds": None,
        "late_cancellation": None,
        "cancel_reason": None,
        "overbooked": False,
        "version": 3,
    }
    values.update(fields)
    return AppointmentView(**values)


BOOKED = view("booked", "booked")
HELD = view("held", "pending", booked_at=None, hold_expires_at=NOW + timedelta(minutes=10))
CANCELLED = view("cancelled", "cancelled", cancelled_at=NOW, cancel_reason="patient ill")
ALL = [BOOKED, HELD, CANCELLED]


class Rows(StillQueries):
    def __init__(self) -> None:
        super().__init__(position=5)
        self.asked: list[AppointmentFilter] = []

    def appointment(self, appointment_id: uuid.UUID) -> AppointmentView | None:
        return next((v for v in ALL if v.id == appointment_id), None)

    def appointments(self, wanted: AppointmentFilter, now: datetime) -> Page[AppointmentView]:
        self.asked.append(wanted)
        rows = [v for v in ALL if wanted.patient_id in (None, v.patient_id)]
        rows = [v for v in rows if not wanted.statuses or v.status in wanted.statuses]
        page = rows[wanted.offset : wanted.offset + wanted.limit]
        after = wanted.offset + wanted.limit
        return Page(
            items=page,
            limit=wanted.limit,
            offset=wanted.offset,
            next_offset=after if after < len(rows) else None,
        )


@pytest.fixture
def rows() -> Rows:
    return Rows()


def fhir_services(
    directory: ListedDirectory,
    scheduling: Scheduling | None = None,
    queries: StillQueries | None = None,
    positions: FixedPositions | None = None,
    page_size: int = 2,
) -> Services:
    """In-memory services for the FHIR tests: by default a read model that stands still at 5."""
    clock = FixedClock(NOW)
    return Services(
        scheduling=scheduling or in_memory_app(clock),
        queries=queries or StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=positions or FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=clock,
        read_wait_seconds=0.01,
        max_page_size=page_size,
        directory=directory,
    )


@pytest.fixture
def client(rows: Rows) -> Iterator[TestClient[Any]]:
    services = fhir_services(ListedDirectory(appointments=len(ALL)), queries=rows)
    with TestClient(create_app(settings(), services)) as c:
        yield c


STAFF = bearer(Role.STAFF)


def outcome(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = check(response.json())
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    return body


def test_capability_statement_lists_what_is_supported(client: TestClient[Any]) -> None:
    response = client.get("/fhir/r4/metadata", headers=STAFF)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = check(response.json())
    [rest] = body["rest"]
    kinds = {r["type"]: r for r in rest["resource"]}
    assert set(kinds) == {
        "Appointment",
        "Practitioner",
        "PractitionerRole",
        "Schedule",
        "Slot",
        "Patient",
    }
    for resource in kinds.values():
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
    operations = {o["name"] for o in kinds["Appointment"]["operation"]}
    assert operations == {"find", "hold", "book", "cancel"}
    slot_params = {p["name"] for p in kinds["Slot"]["searchParam"]}
    assert slot_params == {"schedule", "start", "status", "service-type", "_count"}


@pytest.mark.parametrize("row", ALL, ids=lambda v: v.status)
def test_read_renders_a_valid_appointment_with_its_version(
    client: TestClient[Any], row: AppointmentView
) -> None:
    response = client.get(f"/fhir/r4/Appointment/{row.id}", headers=STAFF)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'W/"{row.version}"'
    body = response.json()
    check(body)
    assert body["status"] == row.fhir_status
    assert body["meta"]["versionId"] == str(row.version)
    assert {p["actor"]["reference"] for p in body["participant"]} == {
        f"Patient/{PATIENT}",
        f"Practitioner/{PROVIDER}",
    }


def test_cancelled_carries_its_reason_and_held_its_expiry(client: TestClient[Any]) -> None:
    cancelled = client.get(f"/fhir/r4/Appointment/{CANCELLED.id}", headers=STAFF).json()
    assert cancelled["cancelationReason"] == {"text": "patient ill"}
    held = client.get(f"/fhir/r4/Appointment/{HELD.id}", headers=STAFF).json()
    assert held["extension"][0]["valueInstant"] == "2030-01-07T09:10:00Z"
    assert "cancelationReason" not in held


def test_someone_elses_appointment_is_not_found(client: TestClient[Any]) -> None:
    response = client.get(f"/fhir/r4/Appointment/{BOOKED.id}", headers=bearer(Role.PATIENT))
    outcome(response, 404, "not-found")
    own = client.get(f"/fhir/r4/Appointment/{BOOKED.id}", headers=bearer(Role.PATIENT, PATIENT))
    assert own.status_code == 200


def test_unknown_and_malformed_ids_are_not_found(client: TestClient[Any]) -> None:
    outcome(client.get(f"/fhir/r4/Appointment/{uuid.uuid4()}", headers=STAFF), 404, "not-found")
    outcome(client.get("/fhir/r4/Appointment/nope", headers=STAFF), 404, "not-found")


def test_search_is_a_paged_searchset(client: TestClient[Any], rows: Rows) -> None:
    response = client.get(
        "/fhir/r4/Appointment", params={"patient": f"Patient/{PATIENT}"}, headers=STAFF
    )
    assert response.status_code == 200, response.text
    body = check(response.json())
    assert body["type"] == "searchset"
    assert body["total"] == 3
    assert len(body["entry"]) == 2  # _count is capped by the page size (2 here)
    links = {link["relation"]: link["url"] for link in body["link"]}
    assert "_offset=2" in links["next"]
    assert "_count=2" in links["self"]
    assert rows.asked[-1].patient_id == PATIENT
    last = check(client.get(links["next"], headers=STAFF).json())
    assert len(last["entry"]) == 1
    assert "next" not in {link["relation"] for link in last["link"]}


def test_search_by_fhir_status_maps_to_domain_statuses(client: TestClient[Any], rows: Rows) -> None:
    body = client.get("/fhir/r4/Appointment", params={"status": "booked"}, headers=STAFF).json()
    assert set(rows.asked[-1].statuses) == {"booked", "confirmed"}
    assert [e["resource"]["id"] for e in body["entry"]] == [str(BOOKED.id)]


def test_a_patient_searches_only_their_own(client: TestClient[Any], rows: Rows) -> None:
    me = uuid.uuid4()
    response = client.get(
        "/fhir/r4/Appointment", params={"patient": str(PATIENT)}, headers=bearer(Role.PATIENT, me)
    )
    assert response.status_code == 200
    assert rows.asked[-1].patient_id == me
    assert response.json()["entry"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"date": "2030-01-01T00:00:00Z"},
        {"date": "ge2030-13-01"},
        {"patient": "Patient/x"},
        {"_count": "0"},
        {"_offset": "x"},
    ],
)
def test_bad_searches_are_invalid(client: TestClient[Any], params: dict[str, str]) -> None:
    outcome(client.get("/fhir/r4/Appointment", params=params, headers=STAFF), 422, "invalid")


def test_reads_past_the_log_head_are_refused(client: TestClient[Any]) -> None:
    response = client.get(
        f"/fhir/r4/Appointment/{BOOKED.id}", params={"min_position": "99"}, headers=STAFF
    )
    assert response.status_code in (422, 503)
    assert response.headers["content-type"].startswith("application/fhir+json")


def test_cancel_operation_runs_the_cancel_command_with_if_match() -> None:
    clock = FixedClock(NOW)
    app = in_memory_app(clock)
    provider_id = register_provider(app)
    patient_id = register_patient(app)
    slot_id = create_slot(app, provider_id, start=NOW + timedelta(days=2))
    appointment_id = book(app, slot_id, patient_id).id
    services = fhir_services(ListedDirectory(), scheduling=app)
    body = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "ill"}]}
    url = f"/fhir/r4/Appointment/{appointment_id}/$cancel"
    with TestClient(create_app(settings(), services)) as c:
        stale = c.post(url, json=body, headers={**STAFF, "If-Match": 'W/"99"'})
        outcome(stale, 412, "conflict")
        outcome(c.post(url, json={"reason": "ill"}, headers=STAFF), 422, "invalid")
        outcome(
            c.post(f"/fhir/r4/Appointment/{uuid.uuid4()}/$cancel", json=body, headers=STAFF),
            404,
            "not-found",
        )
        done = c.post(url, json=body, headers=STAFF)
        assert done.status_code == 200, done.text
        check(done.json())
        outcome(c.post(url, json=body, headers=STAFF), 409, "conflict")
    assert appointment_of(app, appointment_id).status.value == "cancelled"


def test_unauthenticated_is_an_outcome_and_fhir_json_bodies_are_read(
    client: TestClient[Any],
) -> None:
    outcome(client.get("/fhir/r4/metadata"), 401, "login")
    response = client.post(
        f"/fhir/r4/Appointment/{uuid.uuid4()}/$cancel",
        content=b'{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"x"}]}',
        headers={**STAFF, "Content-Type": "application/fhir+json"},
    )
    outcome(response, 404, "not-found")
