"""The LiveKit adapter against a local Twirp RoomService that checks each call with the real
`livekit-protocol` messages and the admin JWT (tests/contracts/livekit_twirp.py); join tokens
decoded with PyJWT; webhooks signed as LiveKit signs them, forged, replayed and re-serialised."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol import models, webhook

from commands.ports import JoinGrant, RoomSpec, WebhookRejectedError
from infra.livekit.rooms import LiveKitRooms, VideoProviderError
from tests.contracts.livekit_twirp import LiveKitServer, livekit_server

KEY, SECRET = "APIslotwise", "a-livekit-secret-of-at-least-32-characters"
SPEC = RoomSpec("visit-1f0c", timedelta(minutes=20), timedelta(minutes=2), 4)


@pytest.fixture
def server() -> Iterator[LiveKitServer]:
    with livekit_server(KEY, SECRET) as running:
        yield running


@pytest.fixture
def rooms(server: LiveKitServer) -> Iterator[LiveKitRooms]:
    adapter = LiveKitRooms(server.url, KEY, SECRET)
    try:
        yield adapter
    finally:
        adapter.shutdown()


def test_opening_a_room_sends_a_valid_create_room_with_the_timeouts_and_capacity(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    opened = rooms.open(SPEC)
    assert server.refusals == []
    [(method, request)] = server.calls
    assert method == "CreateRoom"
    assert isinstance(request, api.CreateRoomRequest)
    assert (request.name, request.empty_timeout, request.departure_timeout) == (
        SPEC.name,
        1200,
        120,
    )
    assert request.max_participants == 4
    assert opened.name == SPEC.name
    assert opened.provider_room_id == server.rooms[SPEC.name].sid


def test_opening_twice_finds_the_same_room(server: LiveKitServer, rooms: LiveKitRooms) -> None:
    first, second = rooms.open(SPEC), rooms.open(SPEC)
    assert first == second
    assert len(server.rooms) == 1


def test_closing_deletes_the_room_and_closing_again_is_harmless(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    rooms.open(SPEC)
    rooms.close(SPEC.name)
    rooms.close(SPEC.name)
    assert server.rooms == {}
    assert [method for method, _ in server.calls] == ["CreateRoom", "DeleteRoom", "DeleteRoom"]
    assert server.refusals == ["not_found"]


def test_participants_are_listed_with_an_admin_grant(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    rooms.open(SPEC)
    server.participants[SPEC.name] = ["patient:1", "provider:2"]
    assert rooms.participants(SPEC.name) == ["patient:1", "provider:2"]
    assert server.refusals == []


def test_a_server_error_is_raised_with_its_code_only(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    server.fail_next = "resource_exhausted"
    with pytest.raises(VideoProviderError, match="resource_exhausted"):
        rooms.open(SPEC)


def test_the_local_server_refuses_an_unknown_field_and_a_wrong_secret(
    server: LiveKitServer,
) -> None:
    # The checks the adapter passes are real: a request it would not send is refused.
    body = api.CreateRoomRequest(name="x").SerializeToString() + b"\xa8\x06\x01"
    token = api.AccessToken(KEY, SECRET).with_grants(api.VideoGrants(room_create=True)).to_jwt()
    headers = {"content-type": "application/protobuf", "authorization": f"Bearer {token}"}
    with pytest.raises(Exception, match="unknown fields"):
        server.handle("CreateRoom", headers, body)
    forged = api.AccessToken(KEY, "another-secret-of-32-characters-and-more").to_jwt()
    with pytest.raises(Exception, match="bad token"):
        server.handle("CreateRoom", {**headers, "authorization": f"Bearer {forged}"}, body[:-3])


NOW = datetime.now(UTC).replace(microsecond=0)


def _decoded(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY)
    return claims


def test_the_providers_token_carries_admin_rights_for_that_room_only(rooms: LiveKitRooms) -> None:
    now = datetime.now(UTC)  # the token must still be valid when decoded, however late this runs
    grant = JoinGrant(SPEC.name, "provider:7", host=True, expires_at=now + timedelta(minutes=10))
    token = rooms.join_token(grant, now)
    claims = _decoded(token.token)
    assert claims["sub"] == "provider:7"
    video = claims["video"]
    assert isinstance(video, dict)
    assert video["room"] == SPEC.name
    assert video["roomJoin"] is True
    assert video["roomAdmin"] is True
    assert "roomCreate" not in video
    assert "roomList" not in video
    assert abs(int(str(claims["exp"])) - int(grant.expires_at.timestamp())) <= 1
    assert token.server_url == rooms.url


def test_the_patients_token_has_no_admin_rights(rooms: LiveKitRooms) -> None:
    now = datetime.now(UTC)
    grant = JoinGrant(SPEC.name, "patient:3", host=False, expires_at=now + timedelta(minutes=5))
    video = _decoded(rooms.join_token(grant, now).token)["video"]
    assert isinstance(video, dict)
    assert video["roomJoin"] is True
    assert "roomAdmin" not in video
    assert video.get("canUpdateOwnMetadata") is False


def _event(kind: str, identity: str = "patient:3", event_id: str = "EV_1") -> str:
    event = webhook.WebhookEvent(
        event=kind,
        id=event_id,
        created_at=int(NOW.timestamp()),
        room=models.Room(name=SPEC.name, sid="RM_1"),
        participant=models.ParticipantInfo(
            identity=identity, disconnect_reason=models.DisconnectReason.CONNECTION_TIMEOUT
        ),
    )
    return MessageToJson(event)


def _signed(body: str, secret: str = SECRET) -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken(KEY, secret).with_sha256(digest).to_jwt()
    return {"Authorization": token}


def test_a_signed_webhook_is_read_into_a_neutral_event(rooms: LiveKitRooms) -> None:
    body = _event("participant_left")
    event = rooms.webhook(body.encode(), _signed(body))
    assert event is not None
    assert (event.event_id, event.kind, event.room) == ("EV_1", "participant_left", SPEC.name)
    assert (event.identity, event.at) == ("patient:3", NOW)
    assert event.disconnect_reason == "connection_timeout"


def test_a_replayed_webhook_keeps_its_event_id(rooms: LiveKitRooms) -> None:
    body = _event("participant_joined")
    first = rooms.webhook(body.encode(), _signed(body))
    again = rooms.webhook(body.encode(), _signed(body))
    assert first is not None
    assert again == first  # the same id: the room's record ignores the second


def test_a_forged_webhook_is_rejected(rooms: LiveKitRooms) -> None:
    body = _event("participant_joined")
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(body.encode(), _signed(body, "not-the-secret-but-32-characters-long"))
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(body.encode(), {})


def test_a_re_serialised_body_is_rejected(rooms: LiveKitRooms) -> None:
    body = _event("participant_joined")
    headers = _signed(body)
    reserialised = json.dumps(json.loads(body), separators=(",", ":"))
    assert reserialised != body
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(reserialised.encode(), headers)


def test_events_the_product_does_not_record_are_none(rooms: LiveKitRooms) -> None:
    body = _event("track_published")
    assert rooms.webhook(body.encode(), _signed(body)) is None


def test_recording_starts_one_room_composite_egress_to_a_file_and_starting_again_keeps_it(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    rooms.open(SPEC)
    first = rooms.start_recording(SPEC.name)
    again = rooms.start_recording(SPEC.name)

    assert server.refusals == []  # every body decoded; every token carried roomRecord
    methods = [method for method, _ in server.calls]
    assert methods == [
        "CreateRoom",
        "ListEgress",
        "StartRoomCompositeEgress",
        "ListEgress",
    ]
    start = server.calls[2][1]
    assert isinstance(start, api.RoomCompositeEgressRequest)
    assert start.room_name == SPEC.name
    (output,) = start.file_outputs
    assert output.file_type == api.EncodedFileType.MP4
    assert output.filepath == "recordings/{room_name}-{time}.mp4"
    assert first == again == next(iter(server.egresses))


def test_stopping_a_recording_stops_its_egress_and_stopping_again_does_nothing(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    rooms.open(SPEC)
    egress_id = rooms.start_recording(SPEC.name)
    rooms.stop_recording(SPEC.name)
    rooms.stop_recording(SPEC.name)
    rooms.stop_recording("visit-never-recorded")

    assert server.refusals == []
    stops = [request for method, request in server.calls if method == "StopEgress"]
    assert [s.egress_id for s in stops if isinstance(s, api.StopEgressRequest)] == [egress_id]
    assert len(stops) == 1
    assert server.egresses[str(egress_id)].status == api.EgressStatus.EGRESS_COMPLETE


def test_recording_a_room_livekit_does_not_have_fails_with_its_code_only(
    server: LiveKitServer, rooms: LiveKitRooms
) -> None:
    with pytest.raises(VideoProviderError, match=r"StartRoomCompositeEgress failed: not_found$"):
        rooms.start_recording("visit-gone")
