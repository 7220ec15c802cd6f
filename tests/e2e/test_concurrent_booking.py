"""Many clients racing for the same seats over HTTP, against a running server and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx

from tests.conftest import utcnow
from tests.scenario import ok, patient, provider, slot

RACERS = 32


def race(
    base_url: str, requests: list[tuple[dict[str, Any], dict[str, str]]]
) -> list[httpx.Response]:
    def send(item: tuple[dict[str, Any], dict[str, str]]) -> httpx.Response:
        body, headers = item
        with httpx.Client(base_url=base_url, timeout=60) as c:
            return c.post("/v1/appointments", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def booked_in_read_model(
    client: httpx.Client, headers: dict[str, str], slot_id: str, position: int
) -> int:
    listed = ok(
        client.get(
            "/v1/appointments",
            params={"min_position": position, "limit": 200},
            headers=headers,
        ),
        200,
    )
    return sum(1 for a in listed["items"] if a["slot_id"] == slot_id and a["status"] == "booked")


def test_32_patients_racing_for_one_seat_get_one_booking(client: httpx.Client) -> None:
    from tests.scenario import STAFF

    provider_id = provider(client)
    slot_id = str(slot(client, provider_id, capacity=1))
    patients = [patient(client)[1] for _ in range(RACERS)]

    responses = race(client.base_url.__str__(), [({"slot_id": slot_id}, h) for h in patients])

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [r.text for r in responses if r.status_code != 409]
    assert statuses.count(409) == RACERS - 1
    position = max(r.json()["position"] for r in responses if r.status_code == 201)
    assert booked_in_read_model(client, STAFF, slot_id, position) == 1


def test_32_patients_racing_for_two_seats_get_two_bookings(client: httpx.Client) -> None:
    from tests.scenario import STAFF

    provider_id = provider(client)
    slot_id = str(slot(client, provider_id, capacity=2))
    patients = [patient(client)[1] for _ in range(RACERS)]

    responses = race(client.base_url.__str__(), [({"slot_id": slot_id}, h) for h in patients])

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 2, [r.text for r in responses if r.status_code != 409]
    assert statuses.count(409) == RACERS - 2
    position = max(r.json()["position"] for r in responses if r.status_code == 201)
    assert booked_in_read_model(client, STAFF, slot_id, position) == 2


def test_one_patient_booking_overlapping_slots_concurrently_gets_one(client: httpx.Client) -> None:
    start = utcnow() + timedelta(hours=3)
    _, me = patient(client)
    slots = []
    for offset in range(RACERS):
        # Every slot belongs to a different provider and overlaps all the others.
        slots.append(str(slot(client, provider(client), start + timedelta(seconds=offset))))

    responses = race(client.base_url.__str__(), [({"slot_id": s}, me) for s in slots])

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [r.text for r in responses if r.status_code != 409]
    assert statuses.count(409) == RACERS - 1
    conflicts = {r.json()["type"].rsplit("/", 1)[-1] for r in responses if r.status_code == 409}
    assert conflicts <= {"appointment-overlap", "version-conflict"}


def test_the_same_idempotency_key_sent_32_times_at_once_books_once(client: httpx.Client) -> None:
    provider_id = provider(client)
    slot_id = str(slot(client, provider_id, capacity=5))
    _, me = patient(client)
    headers = {**me, "Idempotency-Key": "retry-storm-1"}

    responses = race(client.base_url.__str__(), [({"slot_id": slot_id}, headers)] * RACERS)

    created = [r for r in responses if r.status_code == 201]
    assert len(created) == RACERS, [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["id"] for r in created}) == 1
    assert sum(1 for r in created if not r.json()["replayed"]) == 1
