"""The video routes on in-memory persistence with the loopback provider: a join token minted
per request and bound to the visit (decoded here), refusals as problems, and webhooks verified
on their raw body before anything is recorded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from commands.context import CommandContext
from commands.scheduling import Scheduling
from commands.telehealth.messages import OpenVideoRoom
from domain.actor import Actor, Role
from domain.video_room import VideoRoom
from domain.video_visit import room_id, room_name
from infra.video.loopback import LoopbackRooms
from tests.builders import (
    TEN,
    book,
    create_slot,
    in_memory_app,
    patient_registers,
    register_provider,
)
from tests.fakes import FixedClock, FixedPositions, RecordingSearch, StillAnalytics, StillQueries
from tests.unit.test_api_edges import assert_problem, bearer, settings

SYSTEM = CommandContext(Actor(uuid.uuid4(), Role.SYSTEM))


class Visit:
    def __init__(self) -> None:
        self.clock = FixedClock(TEN - timedelta(minutes=5))
        self.app: Scheduling = in_memory_app(self.clock)
        self.rooms = LoopbackRooms()
        self.provider_id = register_provider(self.app)
        self.patient_id = patient_registers(self.app)
        slot = create_slot(self.app, self.provider_id, appointment_types=["video"])
        self.id = book(self.app, slot, self.patient_id, appointment_type="video").id

    def open(self) -> None:
        command = OpenVideoRoom(appointment_id=self.id, provider="loopback")
        self.app.open_video_room(command, SYSTEM)


@pytest.fixture
def visit() -> Visit:
    return Visit()


@pytest.fixture
def client(visit: Visit) -> Iterator[TestClient[Any]]:
    services = Services(
        scheduling=visit.app,
        queries=StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=visit.clock,
        read_wait_seconds=0.01,
        max_page_size=200,
        video=visit.rooms,
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def join(client: TestClient[Any], visit: Visit, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(f"/v1/appointments/{visit.id}/video/join", json=body or {}, headers=headers)


def test_the_patient_gets_a_short_token_for_this_visit_only(
    client: TestClient[Any], visit: Visit
) -> None:
    visit.open()
    answer = join(client, visit, bearer(Role.PATIENT, visit.patient_id))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    claims = jwt.decode(
        body["token"], visit.rooms.secret, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims["sub"] == f"patient:{visit.patient_id}"
    assert claims["room"] == room_name(visit.id)
    assert claims["host"] is False
    assert claims["exp"] == int((visit.clock.now() + timedelta(minutes=10)).timestamp())


def test_the_provider_hosts(client: TestClient[Any], visit: Visit) -> None:
    visit.open()
    body = join(client, visit, bearer(Role.PROVIDER, visit.provider_id)).json()
    claims = jwt.decode(
        body["token"], visit.rooms.secret, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert (claims["sub"], claims["host"], body["host"]) == (
        f"provider:{visit.provider_id}",
        True,
        True,
    )


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER, Role.ANALYST])
def test_someone_elses_visit_is_404(client: TestClient[Any], visit: Visit, role: Role) -> None:
    visit.open()
    assert_problem(join(client, visit, bearer(role)), 404, "not-found")


def test_before_the_room_opens_the_answer_says_when(client: TestClient[Any], visit: Visit) -> None:
    answer = join(client, visit, bearer(Role.PATIENT, visit.patient_id))
    assert_problem(answer, 409, "video-room-not-open")
    assert answer.headers["Retry-After"] == "1"  # the room is due: the policy opens it any moment


def test_too_early_and_after_the_end_are_refused(client: TestClient[Any], visit: Visit) -> None:
    visit.open()
    visit.clock.set(TEN - timedelta(minutes=45))
    assert_problem(join(client, visit, bearer(Role.PATIENT, visit.patient_id)), 409, "too-early")
    visit.clock.set(TEN + timedelta(hours=1))
    assert_problem(join(client, visit, bearer(Role.PATIENT, visit.patient_id)), 409, "too-late")


def test_an_unknown_field_is_400(client: TestClient[Any], visit: Visit) -> None:
    answer = join(client, visit, bearer(Role.PATIENT, visit.patient_id), {"room": "x"})
    assert_problem(answer, 400, "invalid-request")


def _webhook(visit: Visit, event_id: str, kind: str = "participant_joined") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "event": kind,
            "room": room_name(visit.id),
            "at": visit.clock.now().isoformat(),
            "identity": f"patient:{visit.patient_id}",
        }
    ).encode()


def test_a_signed_webhook_is_recorded_once_without_a_bearer_token(
    client: TestClient[Any], visit: Visit
) -> None:
    visit.open()
    body = _webhook(visit, "ev-1")
    headers = {"X-Loopback-Signature": visit.rooms.sign(body), "content-type": "application/json"}
    for _ in range(2):
        answer = client.post("/v1/video/webhooks/loopback", content=body, headers=headers)
        assert answer.status_code == 204, answer.text
    room = visit.app.load(VideoRoom, room_id(visit.id), "room")
    assert room.presence[f"patient:{visit.patient_id}"].joins == 1


def test_a_forged_or_re_serialised_webhook_is_refused(
    client: TestClient[Any], visit: Visit
) -> None:
    visit.open()
    body = _webhook(visit, "ev-2")
    signature = visit.rooms.sign(body)
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    for content, sig in ((body, "0" * 64), (reserialised, signature)):
        answer = client.post(
            "/v1/video/webhooks/loopback", content=content, headers={"X-Loopback-Signature": sig}
        )
        assert_problem(answer, 401, "webhook-rejected")
    room = visit.app.load(VideoRoom, room_id(visit.id), "room")
    assert room.presence == {}


def test_another_providers_webhook_path_is_404(client: TestClient[Any], visit: Visit) -> None:
    answer = client.post("/v1/video/webhooks/twilio", content=b"x=1")
    assert_problem(answer, 404, "not-found")
