"""Video visits through the real processes: the API, the log-fed projections, the video
projection and the room policy (`slotwise worker video`) with the loopback provider, on the real
clock. A visit starting soon gets its room; its patient and provider get tokens bound to it; the
provider's webhooks record joins and leaves; completing the visit closes the room, as do a
cancellation and a reschedule to another day."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from domain.actor import Role
from infra.video.loopback import LoopbackRooms
from tests.conftest import Stack, auth, utcnow, wait_until
from tests.scenario import STAFF, ok, patient, provider

ROOMS = LoopbackRooms()  # the same development secret as the processes' loopback provider


@pytest.fixture(scope="module")
def video_stack(stack: Stack) -> Iterator[Stack]:
    stack.start("video-projection", "worker", "project", "video", "--source", "log")
    stack.start("video", "worker", "video")
    yield stack
    stack.stop("video")
    stack.stop("video-projection")


def video_visit(
    client: httpx.Client, start: datetime
) -> tuple[str, uuid.UUID, uuid.UUID, dict[str, str]]:
    provider_id = provider(client)
    patient_id, me = patient(client)
    body = {
        "provider_id": str(provider_id),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "appointment_types": ["in_person", "video"],
    }
    slot_id = ok(client.post("/v1/slots", json=body, headers=STAFF), 201)["id"]
    booking = {"slot_id": slot_id, "appointment_type": "video"}
    appointment = ok(client.post("/v1/appointments", json=booking, headers=me), 201)["id"]
    return appointment, provider_id, patient_id, me


def room(client: httpx.Client, appointment: str) -> dict[str, Any] | None:
    found = client.get(f"/v1/appointments/{appointment}/video", headers=STAFF)
    return found.json() if found.status_code == 200 else None


def wait_for_room(
    client: httpx.Client, appointment: str, status: str, stack: Stack
) -> dict[str, Any]:
    def reached() -> bool:
        found = room(client, appointment)
        return found is not None and found["status"] == status

    try:
        wait_until(reached, timeout=30, what=f"the room to be {status}")
    except AssertionError:
        raise AssertionError(stack.logs()) from None
    found = room(client, appointment)
    assert found is not None
    return found


def webhook(
    client: httpx.Client, appointment: str, event_id: str, kind: str, identity: str
) -> None:
    body = json.dumps(
        {
            "id": event_id,
            "event": kind,
            "room": f"visit-{appointment}",
            "at": utcnow().isoformat(),
            "identity": identity,
        }
    ).encode()
    answer = client.post(
        "/v1/video/webhooks/loopback",
        content=body,
        headers={"X-Loopback-Signature": ROOMS.sign(body)},
    )
    assert answer.status_code == 204, answer.text


def test_a_video_visit_from_booking_to_a_closed_room(
    video_stack: Stack, client: httpx.Client
) -> None:
    appointment, provider_id, patient_id, me = video_visit(client, utcnow() + timedelta(minutes=5))
    care = auth(Role.PROVIDER, provider_id)
    opened = wait_for_room(client, appointment, "open", video_stack)

    mine = ok(client.post(f"/v1/appointments/{appointment}/video/join", json={}, headers=me), 200)
    theirs = ok(
        client.post(f"/v1/appointments/{appointment}/video/join", json={}, headers=care), 200
    )
    stranger = client.post(
        f"/v1/appointments/{appointment}/video/join", json={}, headers=auth(Role.PATIENT)
    )
    assert stranger.status_code == 404
    claims = jwt.decode(mine["token"], ROOMS.secret, algorithms=["HS256"])
    assert (claims["sub"], claims["room"], claims["host"]) == (
        f"patient:{patient_id}",
        f"visit-{appointment}",
        False,
    )
    assert jwt.decode(theirs["token"], ROOMS.secret, algorithms=["HS256"])["host"] is True
    assert claims["exp"] - claims["nbf"] <= 10 * 60

    webhook(client, appointment, "e1", "participant_joined", f"patient:{patient_id}")
    webhook(client, appointment, "e1", "participant_joined", f"patient:{patient_id}")  # again
    webhook(client, appointment, "e2", "participant_joined", f"provider:{provider_id}")
    ok(client.post(f"/v1/appointments/{appointment}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/start", headers=care), 200)
    webhook(client, appointment, "e3", "participant_left", f"patient:{patient_id}")
    webhook(client, appointment, "e4", "participant_left", f"provider:{provider_id}")
    ok(client.post(f"/v1/appointments/{appointment}/complete", json={}, headers=care), 200)

    closed = wait_for_room(client, appointment, "closed", video_stack)
    assert closed["close_reason"] == "completed"
    assert closed["opened_at"] == opened["opened_at"]  # opened once
    people = {p["role"]: p for p in closed["participants"]}
    assert people["patient"]["reconnects"] == 0
    assert people["provider"]["last_left_at"] is not None
    assert closed["patient_wait_seconds"] is not None
    done = client.post(f"/v1/appointments/{appointment}/video/join", json={}, headers=me)
    assert done.status_code == 409


def test_a_cancelled_visits_room_is_closed(video_stack: Stack, client: httpx.Client) -> None:
    appointment, _, _, me = video_visit(client, utcnow() + timedelta(minutes=5))
    wait_for_room(client, appointment, "open", video_stack)
    ok(
        client.post(f"/v1/appointments/{appointment}/cancel", json={"reason": "ill"}, headers=me),
        200,
    )
    assert wait_for_room(client, appointment, "closed", video_stack)["close_reason"] == "cancelled"


def test_a_rescheduled_visits_room_moves(video_stack: Stack, client: httpx.Client) -> None:
    appointment, provider_id, _, me = video_visit(client, utcnow() + timedelta(minutes=5))
    wait_for_room(client, appointment, "open", video_stack)
    later = utcnow() + timedelta(days=2)
    body = {
        "provider_id": str(provider_id),
        "start": later.isoformat(),
        "end": (later + timedelta(minutes=30)).isoformat(),
        "appointment_types": ["video"],
    }
    new_slot = ok(client.post("/v1/slots", json=body, headers=STAFF), 201)["id"]
    move = {"new_slot_id": new_slot}
    ok(client.post(f"/v1/appointments/{appointment}/reschedule", json=move, headers=me), 200)
    assert wait_for_room(client, appointment, "closed", video_stack)["close_reason"] == "moved"
