"""Issue 11 through the real processes (the API and the log-fed projections, real clock): a
20-occurrence weekly series with one conflict in both modes; two series racing over HTTP for
the same seats never double-book; a visit's rating reaches the provider's search document."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from domain.actor import Role
from tests.conftest import Stack, auth, utcnow
from tests.scenario import STAFF, ok, patient, provider, slot

BERLIN = ZoneInfo("Europe/Berlin")
WEEKS = 20


def first_tuesday() -> datetime:
    """Next week's Tuesday at 09:00 in Berlin."""
    today = utcnow().astimezone(BERLIN).date() + timedelta(days=7)
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7)
    return datetime(tuesday.year, tuesday.month, tuesday.day, 9, tzinfo=BERLIN)


def tuesdays(client: httpx.Client, provider_id: uuid.UUID, first: datetime) -> list[uuid.UUID]:
    return [slot(client, provider_id, first + timedelta(weeks=w)) for w in range(WEEKS)]


def series_body(provider_id: uuid.UUID, first: datetime, mode: str) -> dict[str, Any]:
    return {
        "provider_id": str(provider_id),
        "first_start": first.isoformat(),
        "rrule": f"FREQ=WEEKLY;COUNT={WEEKS};BYDAY=TU",
        "mode": mode,
    }


def test_a_twenty_week_series_with_one_conflict_in_both_modes(
    stack: Stack, client: httpx.Client
) -> None:
    provider_id = provider(client)
    first = first_tuesday()
    slots = tuesdays(client, provider_id, first)
    _, someone = patient(client)
    ok(client.post("/v1/appointments", json={"slot_id": str(slots[9])}, headers=someone), 201)
    patient_id, me = patient(client)

    refused = client.post(
        "/v1/series", json=series_body(provider_id, first, "all_or_nothing"), headers=me
    )
    assert refused.status_code == 409, refused.text
    (conflict,) = refused.json()["errors"]
    assert conflict["reason"] == "slot-full"
    assert datetime.fromisoformat(conflict["recurrence_id"]) == first + timedelta(weeks=9)

    booked = ok(
        client.post("/v1/series", json=series_body(provider_id, first, "partial"), headers=me), 201
    )
    series = booked["series"]
    assert len(series["occurrences"]) == WEEKS - 1
    assert [r["reason"] for r in series["refused"]] == ["slot-full"]
    listed = ok(
        client.get(
            "/v1/appointments",
            params={"patient_id": str(patient_id), "limit": 50, "min_position": booked["position"]},
            headers=STAFF,
        ),
        200,
    )["items"]
    assert len(listed) == WEEKS - 1
    assert {a["series_id"] for a in listed} == {series["id"]}
    assert all(datetime.fromisoformat(a["start"]).astimezone(BERLIN).hour == 9 for a in listed)
    ics = client.get(f"/v1/patients/{patient_id}/series/{series['id']}/calendar.ics", headers=me)
    assert ics.status_code == 200
    assert b"RRULE:FREQ=WEEKLY;COUNT=20;BYDAY=TU" in ics.content


def test_two_series_racing_for_the_same_seats_never_double_book(
    stack: Stack, client: httpx.Client
) -> None:
    provider_id = provider(client)
    first = first_tuesday() + timedelta(hours=3)
    slots = tuesdays(client, provider_id, first)
    racers = [patient(client)[1] for _ in range(2)]
    barrier = threading.Barrier(len(racers))

    def book(headers: dict[str, str]) -> httpx.Response:
        with httpx.Client(base_url=stack.base_url, timeout=60) as own:
            barrier.wait(timeout=30)
            return own.post(
                "/v1/series",
                json=series_body(provider_id, first, "all_or_nothing"),
                headers=headers,
            )

    with ThreadPoolExecutor(max_workers=len(racers)) as pool:
        answers = list(pool.map(book, racers))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409], [a.text for a in answers]
    position = max(a.json()["position"] for a in answers if a.status_code == 201)
    schedule = ok(
        client.get(
            "/v1/appointments",
            params={"provider_id": str(provider_id), "limit": 50, "min_position": position},
            headers=STAFF,
        ),
        200,
    )["items"]
    assert sorted(a["slot_id"] for a in schedule) == sorted(str(s) for s in slots)


def test_a_rating_reaches_the_providers_search_document(stack: Stack, client: httpx.Client) -> None:
    name = f"Dr Rated {uuid.uuid4().hex[:8]}"
    body = {"profile": {"name": name, "time_zone": "Europe/Berlin"}}
    provider_id = uuid.UUID(ok(client.post("/v1/providers", json=body, headers=STAFF), 201)["id"])
    patient_id, me = patient(client)
    soon = slot(client, provider_id, utcnow() + timedelta(minutes=5))
    visit = ok(client.post("/v1/appointments", json={"slot_id": str(soon)}, headers=me), 201)["id"]
    doctor = auth(Role.PROVIDER, provider_id)
    ok(client.post(f"/v1/appointments/{visit}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{visit}/start", headers=doctor), 200)
    ask = {"follow_up": {"interval_days": 28, "notes": "bring the scans"}}
    done = ok(client.post(f"/v1/appointments/{visit}/complete", json=ask, headers=doctor), 200)
    follow_up_id = done["ids"]["follow_up_id"]
    rated = ok(
        client.post(f"/v1/appointments/{visit}/feedback", json={"rating": 4}, headers=me), 200
    )

    found = ok(
        client.get(
            "/v1/search/providers",
            params={"q": name, "min_position": rated["position"]},
            headers=STAFF,
        ),
        200,
    )
    (hit,) = [h for h in found["hits"] if h["provider"]["id"] == str(provider_id)]
    assert float(hit["provider"]["rating"]) == 4.0
    open_ones = ok(
        client.get(
            "/v1/follow-ups",
            params={"provider_id": str(provider_id), "min_position": rated["position"]},
            headers=STAFF,
        ),
        200,
    )["items"]
    assert [f["id"] for f in open_ones] == [follow_up_id]
    assert open_ones[0]["notes"] == "bring the scans"
    mine = ok(client.get("/v1/follow-ups", headers=me), 200)["items"]
    assert [f["notes"] for f in mine] == [None]
    assert str(patient_id) == mine[0]["patient_id"]
