"""HTTP command in, read model out, through the real API and projection worker processes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from domain.actor import Role
from tests.conftest import auth, utcnow
from tests.scenario import STAFF, ok, patient, provider, slot


def test_a_visit_runs_from_booking_to_completion_and_reads_back_at_its_position(
    client: httpx.Client,
) -> None:
    provider_id = provider(client)
    patient_id, me = patient(client)
    slot_id = slot(client, provider_id, utcnow() + timedelta(minutes=5))
    care = auth(Role.PROVIDER, provider_id)

    booked = ok(client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me), 201)
    appointment = booked["id"]
    ok(client.post(f"/v1/appointments/{appointment}/confirm", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/start", headers=care), 200)
    done = ok(
        client.post(
            f"/v1/appointments/{appointment}/complete",
            json={"notes": "all well", "private_notes": "for the provider only"},
            headers=care,
        ),
        200,
    )

    read = client.get(
        f"/v1/appointments/{appointment}", params={"min_position": done["position"]}, headers=me
    )
    body = ok(read, 200)
    assert body["status"] == "completed"
    assert body["fhir_status"] == "fulfilled"
    assert body["patient_id"] == str(patient_id)
    for stamp in ("checked_in_at", "started_at", "completed_at"):
        assert body[stamp] is not None, stamp
    assert body["wait_seconds"] is not None
    assert body["duration_seconds"] is not None
    assert "private_notes" not in body
    assert read.headers["ETag"] == f'"{body["version"]}"'


def test_a_patient_cannot_see_another_patients_appointment(client: httpx.Client) -> None:
    provider_id = provider(client)
    _, me = patient(client)
    slot_id = slot(client, provider_id)
    booked = ok(client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me), 201)
    _, stranger = patient(client)

    mine = client.get(
        f"/v1/appointments/{booked['id']}",
        params={"min_position": booked["position"]},
        headers=me,
    )
    theirs = client.get(f"/v1/appointments/{booked['id']}", headers=stranger)
    listed = ok(
        client.get(
            "/v1/appointments",
            params={"min_position": booked["position"]},
            headers=stranger,
        ),
        200,
    )

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert theirs.headers["content-type"].startswith("application/problem+json")
    assert all(item["id"] != booked["id"] for item in listed["items"])
    acting = client.post(f"/v1/appointments/{booked['id']}/confirm", headers=stranger)
    assert acting.status_code == 404


def test_if_match_with_a_stale_version_is_refused_with_412(client: httpx.Client) -> None:
    provider_id = provider(client)
    _, me = patient(client)
    booked = ok(
        client.post(
            "/v1/appointments", json={"slot_id": str(slot(client, provider_id))}, headers=me
        ),
        201,
    )
    stale = client.post(
        f"/v1/appointments/{booked['id']}/confirm", headers={**me, "If-Match": '"7"'}
    )
    fresh = client.post(
        f"/v1/appointments/{booked['id']}/confirm", headers={**me, "If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    assert fresh.status_code == 200, fresh.text


def test_bad_input_gets_problem_details_naming_the_field(client: httpx.Client) -> None:
    _, me = patient(client)
    coerced = client.post("/v1/appointments", json={"slot_id": 12}, headers=me)
    naive = client.post(
        "/v1/slots",
        json={
            "provider_id": str(uuid.uuid4()),
            "start": "2030-01-01T09:00:00",
            "end": "2030-01-01T09:30:00",
        },
        headers=STAFF,
    )
    unauthenticated = client.post("/v1/appointments", json={"slot_id": str(uuid.uuid4())})
    missing = client.post("/v1/appointments", json={"slot_id": str(uuid.uuid4())}, headers=me)

    assert coerced.status_code == 400
    assert "slot_id" in coerced.json()["detail"]
    assert naive.status_code == 400
    assert "start" in naive.json()["detail"]
    assert unauthenticated.status_code == 401
    assert missing.status_code == 404
    for response in (coerced, naive, unauthenticated, missing):
        problem = response.json()
        assert {"type", "title", "status", "detail"} <= problem.keys()


def test_a_read_past_the_head_gives_422_at_once_with_the_head(client: httpx.Client) -> None:
    _, me = patient(client)
    response = client.get("/v1/appointments", params={"min_position": 10**9}, headers=me)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/position-beyond-head")
    assert 0 < problem["head"] < 10**9


def test_the_openapi_schema_and_docs_page_are_served(client: httpx.Client) -> None:
    schema = ok(client.get("/schema/openapi.json"), 200)
    assert schema["openapi"].startswith("3.1")
    assert "/v1/appointments" in schema["paths"]
    assert client.get("/schema/swagger").status_code == 200
