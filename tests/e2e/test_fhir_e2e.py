"""The FHIR facade through the real API and projection worker processes.

- The IHE ITI Scheduling flow: $find -> $hold -> $book -> read back with min_position ->
  $cancel, and the JSON API sees the same appointment.
- A conformance sweep: for every interaction, search parameter and operation the
  CapabilityStatement lists, a request that should succeed and one that should fail, every
  answer checked three ways (tests/fhir_checks.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.actor import Role
from tests.conftest import auth, utcnow
from tests.fhir_checks import check
from tests.scenario import STAFF, ok, patient, slot

FHIR = "/fhir/r4"


def fhir(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return check(response.json())


def failed(response: httpx.Response, status: int) -> dict[str, Any]:
    body = fhir(response, status)
    assert body["resourceType"] == "OperationOutcome"
    return body


def cardiologist(client: httpx.Client) -> uuid.UUID:
    profile = {
        "name": "Dr Ada Heart",
        "time_zone": "Europe/Berlin",
        "specializations": ["cardiology"],
        "address": "Herzweg 1, Berlin",
    }
    body = ok(client.post("/v1/providers", json={"profile": profile}, headers=STAFF), 201)
    return uuid.UUID(body["id"])


def parameters(**resources: Any) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": name, "resource": r} for name, r in resources.items()],
    }


def test_find_hold_book_read_back_and_cancel_as_the_json_api_sees_it(
    client: httpx.Client,
) -> None:
    doctor = cardiologist(client)
    patient_id, me = patient(client)
    start = utcnow() + timedelta(days=2)
    body = {
        "provider_id": str(doctor),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
    }
    created = ok(client.post("/v1/slots", json=body, headers=STAFF), 201)
    slot_id = created["id"]

    found = fhir(
        client.get(
            f"{FHIR}/Appointment/$find",
            params={
                "practitioner": f"Practitioner/{doctor}",
                "specialty": "cardiology",
                "start": (start - timedelta(hours=1)).isoformat(),
                "min_position": created["position"],
            },
            headers=me,
        ),
        200,
    )
    assert found["total"] == 1
    offer = found["entry"][0]["resource"]
    assert offer["slot"] == [{"reference": f"Slot/{slot_id}"}]

    held_answer = client.post(
        f"{FHIR}/Appointment/$hold", json=parameters(appointment=offer), headers=me
    )
    held = fhir(held_answer, 200)
    assert held["status"] == "pending"
    assert held["extension"][0]["valueInstant"] > utcnow().isoformat()[:19]
    assert held_answer.headers["ETag"] == f'W/"{held["meta"]["versionId"]}"'
    slot_now = fhir(client.get(f"{FHIR}/Slot/{slot_id}", headers=me), 200)
    assert slot_now["status"] == "busy-tentative"

    booking = {
        **me,
        "Idempotency-Key": f"book-{held['id']}",
        "If-Match": held_answer.headers["ETag"],
    }
    booked_answer = client.post(
        f"{FHIR}/Appointment/$book", json=parameters(appointment=held), headers=booking
    )
    booked = fhir(booked_answer, 200)
    assert (booked["id"], booked["status"]) == (held["id"], "booked")
    replay = client.post(
        f"{FHIR}/Appointment/$book", json=parameters(appointment=held), headers=booking
    )
    assert fhir(replay, 200)["meta"] == booked["meta"]  # the first outcome, not a second booking

    position = booked_answer.headers["X-Log-Position"]
    read = client.get(
        f"{FHIR}/Appointment/{held['id']}", params={"min_position": position}, headers=me
    )
    assert fhir(read, 200)["status"] == "booked"
    assert read.headers["ETag"] == f'W/"{booked["meta"]["versionId"]}"'
    mine = fhir(
        client.get(f"{FHIR}/Appointment", params={"patient": f"Patient/{patient_id}"}, headers=me),
        200,
    )
    assert [e["resource"]["id"] for e in mine["entry"]] == [held["id"]]  # ITI-118

    cancel = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "ill"}]}
    stale = {**me, "If-Match": 'W/"99"'}
    failed(client.post(f"{FHIR}/Appointment/{held['id']}/$cancel", json=cancel, headers=stale), 412)
    done = fhir(
        client.post(
            f"{FHIR}/Appointment/{held['id']}/$cancel",
            json=cancel,
            headers={**me, "If-Match": read.headers["ETag"]},
        ),
        200,
    )
    after = next(p["valueInteger"] for p in done["parameter"] if p["name"] == "position")
    cancelled = fhir(
        client.get(f"{FHIR}/Appointment/{held['id']}", params={"min_position": after}, headers=me),
        200,
    )
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelationReason"] == {"text": "ill"}
    json_api = ok(
        client.get(f"/v1/appointments/{held['id']}", params={"min_position": after}, headers=me),
        200,
    )
    assert (json_api["status"], json_api["fhir_status"]) == ("cancelled", "cancelled")
    assert str(json_api["version"]) == cancelled["meta"]["versionId"]
    assert fhir(client.get(f"{FHIR}/Slot/{slot_id}", headers=me), 200)["status"] == "free"


# --- the conformance sweep ----------------------------------------------------------------------


@dataclass
class World:
    """What the sweep's requests name: a provider with a slot, a patient with a booking."""

    doctor: uuid.UUID
    patient_id: uuid.UUID
    me: dict[str, str]
    slot_id: uuid.UUID
    free_slot: uuid.UUID
    appointment_id: str
    start: datetime


@pytest.fixture(scope="module")
def world(stack: Any) -> World:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        doctor = cardiologist(client)
        patient_id, me = patient(client)
        start = utcnow() + timedelta(days=3)
        slot_id = slot(client, doctor, start)
        free_slot = slot(client, doctor, start + timedelta(hours=1))
        booked = ok(
            client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me), 201
        )
        # Wait for the projection once, so every read below sees the world.
        ok(
            client.get(
                f"/v1/appointments/{booked['id']}",
                params={"min_position": booked["position"]},
                headers=me,
            ),
            200,
        )
        return World(doctor, patient_id, me, slot_id, free_slot, booked["id"], start)


def day(w: World) -> str:
    return w.start.date().isoformat()


# A value of each search parameter that matches the world's resources.
SEARCH_VALUES: dict[str, dict[str, Callable[[World], str]]] = {
    "Appointment": {
        "patient": lambda w: f"Patient/{w.patient_id}",
        "practitioner": lambda w: f"Practitioner/{w.doctor}",
        "date": lambda w: f"ge{day(w)}",
        "status": lambda w: "booked",
    },
    "Practitioner": {"_id": lambda w: str(w.doctor), "name": lambda w: "ada heart"},
    "PractitionerRole": {
        "_id": lambda w: str(w.doctor),
        "practitioner": lambda w: f"Practitioner/{w.doctor}",
        "specialty": lambda w: "cardiology",
    },
    "Schedule": {"_id": lambda w: str(w.doctor), "actor": lambda w: f"Practitioner/{w.doctor}"},
    "Slot": {
        "schedule": lambda w: f"Schedule/{w.doctor}",
        "start": lambda w: f"ge{day(w)}",
        "status": lambda w: "busy",
        "service-type": lambda w: "in_person",
    },
    "Patient": {"_id": lambda w: str(w.patient_id), "name": lambda w: "grace"},
}
# Each resource's id in the world, and who reads it.
READS: dict[str, Callable[[World], str]] = {
    "Appointment": lambda w: w.appointment_id,
    "Practitioner": lambda w: str(w.doctor),
    "PractitionerRole": lambda w: str(w.doctor),
    "Schedule": lambda w: str(w.doctor),
    "Slot": lambda w: str(w.slot_id),
    "Patient": lambda w: str(w.patient_id),
}


def capability(client: httpx.Client) -> dict[str, dict[str, Any]]:
    statement = fhir(client.get(f"{FHIR}/metadata", headers=STAFF), 200)
    assert statement["fhirVersion"] == "4.0.1"
    return {r["type"]: r for r in statement["rest"][0]["resource"]}


def test_every_read_in_the_capability_statement_succeeds_and_fails(
    client: httpx.Client, world: World
) -> None:
    for kind, resource in capability(client).items():
        assert {i["code"] for i in resource["interaction"]} == {"read", "search-type"}
        url = f"{FHIR}/{kind}/{READS[kind](world)}"
        response = client.get(url, headers=world.me)
        body = fhir(response, 200)
        assert (body["resourceType"], body["id"]) == (kind, READS[kind](world))
        assert response.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'
        failed(client.get(f"{FHIR}/{kind}/{uuid.uuid4()}", headers=world.me), 404)
    stranger = auth(Role.PATIENT)
    failed(client.get(f"{FHIR}/Appointment/{world.appointment_id}", headers=stranger), 404)
    failed(client.get(f"{FHIR}/Patient/{world.patient_id}", headers=stranger), 404)
    failed(client.get(f"{FHIR}/Slot/{world.slot_id}"), 401)


def test_every_search_parameter_in_the_capability_statement_finds_and_refuses(
    client: httpx.Client, world: World
) -> None:
    for kind, resource in capability(client).items():
        names = [p["name"] for p in resource["searchParam"] if p["name"] != "_count"]
        assert set(names) == set(SEARCH_VALUES[kind]), kind
        for name in names:
            params = {name: SEARCH_VALUES[kind][name](world), "_count": "1"}
            body = fhir(client.get(f"{FHIR}/{kind}", params=params, headers=STAFF), 200)
            assert body["type"] == "searchset"
            assert body["total"] >= 1, (kind, name)
            assert len(body["entry"]) == 1
            assert all(e["resource"]["resourceType"] == kind for e in body["entry"])
            if body["total"] > 1:
                assert "next" in {link["relation"] for link in body["link"]}
        strict = {**STAFF, "Prefer": "handling=strict"}
        failed(client.get(f"{FHIR}/{kind}", params={"unheard-of": "1"}, headers=strict), 400)


def test_every_operation_in_the_capability_statement_succeeds_and_fails(
    client: httpx.Client, world: World
) -> None:
    operations = {o["name"] for o in capability(client)["Appointment"]["operation"]}
    assert operations == {"find", "hold", "book", "cancel"}
    url = f"{FHIR}/Appointment"
    found = fhir(
        client.post(
            f"{url}/$find",
            json={
                "resourceType": "Parameters",
                "parameter": [
                    {
                        "name": "practitioner",
                        "valueReference": {"reference": f"Practitioner/{world.doctor}"},
                    }
                ],
            },
            headers=world.me,
        ),
        200,
    )
    offers = [e["resource"] for e in found["entry"]]
    [offer] = [o for o in offers if o["slot"][0]["reference"] == f"Slot/{world.free_slot}"]
    failed(client.get(f"{url}/$find", params={"start": "yesterday"}, headers=world.me), 422)

    held = fhir(
        client.post(f"{url}/$hold", json=parameters(appointment=offer), headers=world.me), 200
    )
    failed(client.post(f"{url}/$hold", json=parameters(appointment=offer), headers=world.me), 409)

    booked = fhir(
        client.post(f"{url}/$book", json=parameters(appointment=held), headers=world.me), 200
    )
    assert booked["status"] == "booked"
    failed(client.post(f"{url}/$book", json=parameters(appointment=held), headers=world.me), 409)

    reason = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "x"}]}
    fhir(client.post(f"{url}/{booked['id']}/$cancel", json=reason, headers=world.me), 200)
    failed(client.post(f"{url}/{booked['id']}/$cancel", json=reason, headers=world.me), 409)
