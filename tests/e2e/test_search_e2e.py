"""Search through the running stack: a provider registered and a visit completed over HTTP are
found by /v1/search (the worker's search projection feeds the PostgreSQL backend), and the
visit's notes only by its patient and its provider."""

from __future__ import annotations

import random
import string
import uuid
from datetime import timedelta

import httpx

from domain.actor import Role
from tests.conftest import auth, utcnow
from tests.scenario import STAFF, ok, patient, slot


def word() -> str:
    """A word no other test uses, so results are this test's alone on the shared database."""
    return "".join(random.choices(string.ascii_lowercase, k=12))


def test_a_provider_and_a_completed_visit_are_found_by_search(client: httpx.Client) -> None:
    surname, symptom = word().title(), word()
    profile = {
        "name": f"Dr Ada {surname}",
        "time_zone": "Europe/Berlin",
        "specializations": ["Cardiology"],
        "latitude": 52.52,
        "longitude": 13.405,
        "insurances": ["AOK"],
    }
    registered = ok(client.post("/v1/providers", json={"profile": profile}, headers=STAFF), 201)
    provider_id = uuid.UUID(registered["id"])
    care = auth(Role.PROVIDER, provider_id)
    patient_id, me = patient(client)
    start = utcnow() + timedelta(minutes=5)
    booked = ok(
        client.post(
            "/v1/appointments", json={"slot_id": str(slot(client, provider_id, start))}, headers=me
        ),
        201,
    )
    visit = booked["id"]
    ok(client.post(f"/v1/appointments/{visit}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{visit}/start", headers=care), 200)
    notes = {"notes": f"Reports {symptom} when climbing stairs; ECG normal."}
    done = ok(client.post(f"/v1/appointments/{visit}/complete", json=notes, headers=care), 200)
    position = done["position"]

    typo = surname[:4] + surname[5:]  # one letter dropped
    found = ok(
        client.get(
            "/v1/search/providers",
            params={"q": typo, "min_position": position, "lat": 52.5, "lon": 13.4},
            headers=me,
        ),
        200,
    )
    (hit,) = found["hits"]
    assert hit["provider"]["id"] == str(provider_id)
    assert hit["provider"]["version"] == 1
    assert 0 < hit["distance_km"] < 5
    assert any("<em>" in fragment for fragment in hit["highlights"]["name"])

    def notes_found(headers: dict[str, str]) -> list[str]:
        params = {"q": symptom, "min_position": position}
        body = ok(client.get("/v1/search/notes", params=params, headers=headers), 200)
        return [h["appointment_id"] for h in body["hits"]]

    assert notes_found(me) == [visit]
    assert notes_found(care) == [visit]
    _, stranger = patient(client)
    assert notes_found(stranger) == []
    assert notes_found(auth(Role.PROVIDER)) == []
    assert notes_found(STAFF) == []
    assert str(patient_id) in {
        h["patient_id"]
        for h in ok(client.get("/v1/search/notes", params={"q": symptom}, headers=care), 200)[
            "hits"
        ]
    }


def test_a_distance_sort_without_a_point_is_422(client: httpx.Client) -> None:
    response = client.get(
        "/v1/search/providers", params={"sort": "distance"}, headers=auth(Role.PATIENT)
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "lat and lon" in response.json()["detail"]
