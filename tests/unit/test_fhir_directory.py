"""FHIR Practitioner, PractitionerRole, Schedule, Patient and Slot read and search on in-memory
services: every resource passes the three checks (tests/fhir_checks.py), versions and times
come from the rows, a patient record is its patient's and staff's only, search parameters
follow `Prefer: handling`, and a storage outage is a 503 OperationOutcome."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from domain.actor import Role
from projections.directory import PatientView, ProviderView
from projections.queries import SlotView
from tests.fakes import (
    ListedDirectory,
)
from tests.fhir_checks import check, schema_errors
from tests.unit.test_api_edges import bearer, settings
from tests.unit.test_fhir import fhir_services, outcome

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
STAFF = bearer(Role.STAFF)
DOCTOR = ProviderView(
    id=uuid.uuid4(),
    name="Dr Ada Lovelace",
    time_zone="Europe/Berlin",
    specializations=["cardiology", "general practice"],
    address="1 Analytical Way, London",
    first_slot_start=NOW,
    last_slot_end=NOW + timedelta(days=30),
    version=4,
    updated_at=NOW - timedelta(days=1),
)
NEWCOMER = ProviderView(
    id=uuid.uuid4(),
    name="Dr Alan Turing",
    time_zone="Europe/London",
    specializations=[],
    address=None,
    first_slot_start=None,
    last_slot_end=None,
    version=1,
    updated_at=NOW - timedelta(days=2),
)
GRACE = PatientView(
    id=uuid.uuid4(), name="Grace Hopper", time_zone="UTC", version=2, updated_at=NOW
)
OTHER = PatientView(id=uuid.uuid4(), name="Ada Byron", time_zone="UTC", version=1, updated_at=NOW)


def slot_view(status: str, capacity: int, booked: int, held: int, **fields: Any) -> SlotView:
    start = NOW + timedelta(days=1)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "provider_id": DOCTOR.id,
        "start": start,
        "end": start + timedelta(minutes=30),
        "capacity": capacity,
        "overbook_allowance": 0,
        "appointment_types": ["in_person", "video"],
        "location": "Berlin",
        "room": "3",
        "status": status,
        "booked_seats": booked,
        "held_seats": held,
        "free_seats": max(capacity - booked - held, 0) if status == "open" else 0,
        "version": 2,
        "updated_at": NOW,
    }
    return SlotView(**{**values, **fields})


SLOTS = {
    "free": slot_view("open", 2, 1, 0),
    "busy": slot_view("open", 1, 1, 0, appointment_types=["video"]),
    "busy-tentative": slot_view("open", 1, 0, 1),
    "busy-unavailable": slot_view("blocked", 1, 0, 0),
}


class BrokenDirectory(ListedDirectory):
    def providers(self, wanted: Any) -> Any:
        raise psycopg.OperationalError("server closed the connection unexpectedly")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    directory = ListedDirectory([DOCTOR, NEWCOMER], [GRACE, OTHER], list(SLOTS.values()))
    with TestClient(create_app(settings(), fhir_services(directory))) as c:
        yield c


def read(client: TestClient[Any], path: str, headers: dict[str, str] = STAFF) -> dict[str, Any]:
    response = client.get(f"/fhir/r4/{path}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = check(response.json())
    assert response.headers["etag"] == f'W/"{body["meta"]["versionId"]}"'
    return body


@pytest.mark.parametrize("kind", ["Practitioner", "PractitionerRole", "Schedule"])
def test_a_provider_reads_as_each_resource_with_its_version_and_time(
    client: TestClient[Any], kind: str
) -> None:
    body = read(client, f"{kind}/{DOCTOR.id}", bearer(Role.PATIENT))
    assert body["resourceType"] == kind
    assert body["meta"] == {"versionId": "4", "lastUpdated": "2030-01-06T09:00:00Z"}
    newcomer = read(client, f"{kind}/{NEWCOMER.id}")
    assert "specialty" not in newcomer
    assert "planningHorizon" not in newcomer


def test_role_and_schedule_carry_specialty_location_actor_and_horizon(
    client: TestClient[Any],
) -> None:
    role = read(client, f"PractitionerRole/{DOCTOR.id}")
    assert [s["text"] for s in role["specialty"]] == DOCTOR.specializations
    assert role["location"] == [{"display": "1 Analytical Way, London"}]
    assert role["practitioner"]["reference"] == f"Practitioner/{DOCTOR.id}"
    schedule = read(client, f"Schedule/{DOCTOR.id}")
    assert {a["reference"] for a in schedule["actor"]} == {
        f"Practitioner/{DOCTOR.id}",
        f"PractitionerRole/{DOCTOR.id}",
    }
    assert schedule["planningHorizon"] == {
        "start": "2030-01-07T09:00:00Z",
        "end": "2030-02-06T09:00:00Z",
    }


@pytest.mark.parametrize("status", list(SLOTS))
def test_slot_status_follows_seats_holds_and_blocks(client: TestClient[Any], status: str) -> None:
    body = read(client, f"Slot/{SLOTS[status].id}", bearer(Role.ANALYST))
    assert body["status"] == status
    assert body["schedule"] == {"reference": f"Schedule/{DOCTOR.id}"}
    codes = [c["coding"][0]["code"] for c in body["serviceType"]]
    assert codes == SLOTS[status].appointment_types
    assert ("appointmentType" in body) == (len(codes) == 1)


def test_the_schema_check_catches_a_wrong_slot_status(client: TestClient[Any]) -> None:
    body = read(client, f"Slot/{SLOTS['free'].id}")
    wrong = copy.deepcopy(body)
    wrong["status"] = "open"
    assert schema_errors(wrong)
    assert not schema_errors(body)


def test_a_patient_reads_only_their_own_record(client: TestClient[Any]) -> None:
    mine = read(client, f"Patient/{GRACE.id}", bearer(Role.PATIENT, GRACE.id))
    assert mine["name"] == [{"text": "Grace Hopper"}]
    read(client, f"Patient/{OTHER.id}")  # staff read any
    for role, subject in ((Role.PATIENT, GRACE.id), (Role.PROVIDER, DOCTOR.id)):
        theirs = client.get(f"/fhir/r4/Patient/{OTHER.id}", headers=bearer(role, subject))
        outcome(theirs, 404, "not-found")


def test_patient_search_is_narrowed_to_the_caller(client: TestClient[Any]) -> None:
    me = bearer(Role.PATIENT, GRACE.id)
    own = check(client.get("/fhir/r4/Patient", headers=me).json())
    assert [e["resource"]["id"] for e in own["entry"]] == [str(GRACE.id)]
    asked = client.get("/fhir/r4/Patient", params={"_id": str(OTHER.id)}, headers=me)
    assert check(asked.json())["total"] == 0
    everyone = check(client.get("/fhir/r4/Patient", headers=STAFF).json())
    assert everyone["total"] == 2
    provider = client.get("/fhir/r4/Patient", headers=bearer(Role.PROVIDER, DOCTOR.id))
    outcome(provider, 403, "forbidden")


def test_searches_page_with_total_and_links(client: TestClient[Any]) -> None:
    response = client.get("/fhir/r4/Slot", params={"_count": "50"}, headers=STAFF)
    body = check(response.json())
    assert body["total"] == 4
    assert len(body["entry"]) == 2  # _count capped at the page size
    links = {link["relation"]: link["url"] for link in body["link"]}
    assert "_count=2" in links["self"]
    rest = check(client.get(links["next"], headers=STAFF).json())
    assert len(rest["entry"]) == 2
    assert "next" not in {link["relation"] for link in rest["link"]}


@pytest.mark.parametrize(
    ("kind", "params", "found"),
    [
        ("Practitioner", {"name": "turing"}, [NEWCOMER.id]),
        ("PractitionerRole", {"specialty": "cardiology"}, [DOCTOR.id]),
        ("PractitionerRole", {"practitioner": f"Practitioner/{NEWCOMER.id}"}, [NEWCOMER.id]),
        ("Schedule", {"actor": f"PractitionerRole/{DOCTOR.id}"}, [DOCTOR.id]),
        ("Schedule", {"_id": str(NEWCOMER.id)}, [NEWCOMER.id]),
    ],
)
def test_provider_searches_filter(
    client: TestClient[Any], kind: str, params: dict[str, str], found: list[uuid.UUID]
) -> None:
    body = check(client.get(f"/fhir/r4/{kind}", params=params, headers=STAFF).json())
    assert [e["resource"]["id"] for e in body["entry"]] == [str(i) for i in found]
    assert body["total"] == len(found)


def test_unknown_parameters_follow_prefer_handling(client: TestClient[Any]) -> None:
    params = {"name": "ada", "colour": "red"}
    lenient = client.get("/fhir/r4/Practitioner", params=params, headers=STAFF)
    [self_link] = [link["url"] for link in check(lenient.json())["link"]]
    assert "name=ada" in self_link
    assert "colour" not in self_link  # the self link shows what was applied
    explicit = {**STAFF, "Prefer": "handling=lenient"}
    assert client.get("/fhir/r4/Practitioner", params=params, headers=explicit).status_code == 200
    strict = {**STAFF, "Prefer": "handling=strict"}
    refused = client.get("/fhir/r4/Practitioner", params=params, headers=strict)
    body = outcome(refused, 400, "not-supported")
    assert "colour" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Slot", {"status": "open"}),
        ("Slot", {"start": "2030-01-01"}),
        ("Slot", {"schedule": "Practitioner/x"}),
        ("PractitionerRole", {"practitioner": "Patient/" + str(uuid.uuid4())}),
        ("Patient", {"_count": "-1"}),
    ],
)
def test_bad_values_of_known_parameters_are_invalid(
    client: TestClient[Any], path: str, params: dict[str, str]
) -> None:
    outcome(client.get(f"/fhir/r4/{path}", params=params, headers=STAFF), 422, "invalid")


@pytest.mark.parametrize("path", ["Practitioner", "Schedule", "Slot", "Patient"])
def test_unknown_ids_are_not_found(client: TestClient[Any], path: str) -> None:
    outcome(client.get(f"/fhir/r4/{path}/{uuid.uuid4()}", headers=STAFF), 404, "not-found")
    outcome(client.get(f"/fhir/r4/{path}/not-a-uuid", headers=STAFF), 404, "not-found")


def test_a_storage_outage_is_a_503_operation_outcome() -> None:
    with TestClient(create_app(settings(), fhir_services(BrokenDirectory([DOCTOR])))) as c:
        response = c.get("/fhir/r4/Practitioner", headers=STAFF)
    body = outcome(response, 503, "transient")
    assert body["issue"][0]["severity"] == "fatal"
    assert response.headers["Retry-After"].isdigit()
    assert "connection" not in body["issue"][0]["diagnostics"]


def test_routing_errors_on_fhir_paths_are_operation_outcomes(client: TestClient[Any]) -> None:
    outcome(client.get("/fhir/r4/Encounter", headers=STAFF), 404, "not-found")
    outcome(client.get(f"/fhir/r4/Slot/{uuid.uuid4()}/_history/1", headers=STAFF), 404, "not-found")
    outcome(client.put(f"/fhir/r4/Appointment/{uuid.uuid4()}", headers=STAFF), 405, "not-supported")
    outcome(client.delete(f"/fhir/r4/Slot/{uuid.uuid4()}", headers=STAFF), 405, "not-supported")
    elsewhere = client.get("/v1/nothing", headers=STAFF)
    assert elsewhere.headers["content-type"].startswith("application/problem+json")
