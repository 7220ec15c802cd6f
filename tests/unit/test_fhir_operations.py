"""IHE ITI Scheduling operations on in-memory services: $find proposes valid Appointments from
free slots and asks the read model for exactly those; $hold and $book run the real commands
(hold, book, If-Match, Idempotency-Key) and answer OperationOutcome for what they refuse. Their
read-back of the written Appointment is covered end to end (tests/e2e/test_fhir_e2e.py)."""

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
from projections.directory import SlotSearch
from tests.builders import (
    appointment_of,
    create_slot,
    in_memory_app,
    register_patient,
    register_provider,
    slot_of,
)
from tests.fakes import (
    FixedClock,
    FixedPositions,
    ListedDirectory,
)
from tests.fhir_checks import check
from tests.unit.test_api_edges import bearer, settings
from tests.unit.test_fhir import fhir_services, outcome
from tests.unit.test_fhir_directory import DOCTOR, SLOTS

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
STAFF = bearer(Role.STAFF)


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.app: Scheduling = in_memory_app(self.clock)
        self.provider_id = register_provider(self.app)
        self.patient_id = register_patient(self.app)
        self.slot_id = create_slot(self.app, self.provider_id, start=NOW + timedelta(days=1))
        self.directory = ListedDirectory([DOCTOR], [], [SLOTS["free"], SLOTS["busy"]])

    def services(self) -> Services:
        # The read model stands still: a command's read-back waits in vain (503).
        positions = FixedPositions(head=10_000, scheduling=5, analytics=3, search=4)
        return fhir_services(self.directory, self.app, positions=positions, page_size=20)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def client(world: World) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings(), world.services())) as c:
        yield c


def proposal(slot_id: uuid.UUID, patient_id: uuid.UUID | None, kind: str = "in_person") -> Any:
    participants = [{"actor": {"reference": f"Practitioner/{DOCTOR.id}"}, "status": "needs-action"}]
    if patient_id is not None:
        participants.append(
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "needs-action"}
        )
    appointment = {
        "resourceType": "Appointment",
        "status": "proposed",
        "appointmentType": {"coding": [{"code": kind}]},
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": participants,
    }
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "appointment", "resource": appointment}],
    }


def test_find_proposes_appointments_in_free_slots(client: TestClient[Any], world: World) -> None:
    params = {
        "practitioner": f"Practitioner/{DOCTOR.id}",
        "specialty": "cardiology",
        "visit-type": "video",
        "location": "Berlin",
        "start": "2030-01-07T00:00:00Z",
        "end": "2030-01-20",
    }
    me = uuid.uuid4()
    response = client.get(
        "/fhir/r4/Appointment/$find", params=params, headers=bearer(Role.PATIENT, me)
    )
    assert response.status_code == 200, response.text
    body = check(response.json())
    assert body["total"] == 2
    first = body["entry"][0]["resource"]
    assert first["status"] == "proposed"
    assert "id" not in first
    assert first["slot"] == [{"reference": f"Slot/{SLOTS['free'].id}"}]
    assert first["appointmentType"]["coding"][0]["code"] == "video"
    assert {p["actor"]["reference"] for p in first["participant"]} == {
        f"Practitioner/{DOCTOR.id}",
        f"Patient/{me}",  # a patient's proposals are their own
    }
    asked = world.directory.asked[-1]
    assert isinstance(asked, SlotSearch)
    assert (asked.fhir_statuses, asked.bookable_after) == (("free",), NOW)
    assert (asked.provider_id, asked.specialty, asked.location) == (
        DOCTOR.id,
        "cardiology",
        "Berlin",
    )
    assert (asked.start_from, asked.start_to) == (
        NOW - timedelta(hours=9),
        datetime(2030, 1, 20, tzinfo=UTC),
    )


def test_find_takes_parameters_by_post_too(client: TestClient[Any], world: World) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "start", "valueDateTime": "2030-01-08T00:00:00Z"},
            {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{DOCTOR.id}"}},
            {"name": "_count", "valueString": "1"},
        ],
    }
    response = client.post("/fhir/r4/Appointment/$find", json=body, headers=STAFF)
    assert response.status_code == 200, response.text
    found = check(response.json())
    assert (found["total"], len(found["entry"])) == (2, 1)
    assert "next" in {link["relation"] for link in found["link"]}
    asked = world.directory.asked[-1]
    assert isinstance(asked, SlotSearch)
    assert asked.start_from == datetime(2030, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"start": "2030-01-10T00:00:00Z", "end": "2030-01-09T00:00:00Z"}, 422, "invalid"),
        ({"start": "2030-01-01T00:00:00Z", "end": "2030-06-01T00:00:00Z"}, 422, "invalid"),
        ({"service-type": "telepathy"}, 422, "invalid"),
        ({"practitioner": "Patient/" + str(uuid.uuid4())}, 422, "invalid"),
    ],
)
def test_find_refuses_bad_input(
    client: TestClient[Any], params: dict[str, str], status: int, code: str
) -> None:
    outcome(client.get("/fhir/r4/Appointment/$find", params=params, headers=STAFF), status, code)


def test_find_under_strict_handling_refuses_unknown_parameters(client: TestClient[Any]) -> None:
    headers = {**STAFF, "Prefer": "handling=strict"}
    response = client.get("/fhir/r4/Appointment/$find", params={"insurance": "x"}, headers=headers)
    outcome(response, 400, "not-supported")


def test_hold_runs_the_hold_command_once_per_idempotency_key(
    client: TestClient[Any], world: World
) -> None:
    headers = {**STAFF, "Idempotency-Key": "hold-1"}
    body = proposal(world.slot_id, world.patient_id)
    first = client.post("/fhir/r4/Appointment/$hold", json=body, headers=headers)
    # The hold is recorded; this read model never catches up, so the answer says to retry.
    outcome(first, 503, "transient")
    assert first.headers["Retry-After"].isdigit()
    again = client.post("/fhir/r4/Appointment/$hold", json=body, headers=headers)
    outcome(again, 503, "transient")
    held = list(slot_of(world.app, world.slot_id).allocations)
    assert len(held) == 1
    assert appointment_of(world.app, held[0]).status.value == "held"


def test_hold_and_book_refuse_what_the_commands_refuse(
    client: TestClient[Any], world: World
) -> None:
    url = "/fhir/r4/Appointment/"
    outcome(client.post(url + "$hold", json={"slot": "x"}, headers=STAFF), 422, "invalid")
    no_slot = proposal(world.slot_id, world.patient_id)
    del no_slot["parameter"][0]["resource"]["slot"]
    outcome(client.post(url + "$hold", json=no_slot, headers=STAFF), 422, "invalid")
    unknown = proposal(uuid.uuid4(), world.patient_id)
    outcome(client.post(url + "$hold", json=unknown, headers=STAFF), 404, "not-found")
    patient = bearer(Role.PATIENT, world.patient_id)
    client.post(url + "$book", json=proposal(world.slot_id, None), headers=patient)
    full = proposal(world.slot_id, None)
    other = bearer(Role.PATIENT, register_patient(world.app, "Ada"))
    outcome(client.post(url + "$book", json=full, headers=other), 409, "conflict")


def test_book_of_a_hold_honours_if_match(client: TestClient[Any], world: World) -> None:
    patient = bearer(Role.PATIENT, world.patient_id)
    client.post("/fhir/r4/Appointment/$hold", json=proposal(world.slot_id, None), headers=patient)
    [held] = list(slot_of(world.app, world.slot_id).allocations)
    version = appointment_of(world.app, held).version
    hold = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment",
                "resource": {
                    "resourceType": "Appointment",
                    "id": str(held),
                    "status": "pending",
                    "participant": [
                        {
                            "actor": {"reference": f"Patient/{world.patient_id}"},
                            "status": "accepted",
                        }
                    ],
                },
            }
        ],
    }
    stale = {**patient, "If-Match": f'W/"{version + 1}"'}
    outcome(client.post("/fhir/r4/Appointment/$book", json=hold, headers=stale), 412, "conflict")
    assert appointment_of(world.app, held).status.value == "held"
    current = {**patient, "If-Match": f'W/"{version}"'}
    client.post("/fhir/r4/Appointment/$book", json=hold, headers=current)
    assert appointment_of(world.app, held).status.value == "booked"
