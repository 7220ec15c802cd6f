"""The Twilio adapter with the real `twilio` SDK pointed at a local server that validates each
request against Twilio's published OpenAPI description of Video v1 (tests/contracts/twilio);
join tokens decoded with PyJWT; status callbacks signed as Twilio signs them, forged, signed for
another URL, and replayed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import jwt
import pytest
from twilio.request_validator import RequestValidator

from commands.ports import JoinGrant, RoomSpec, WebhookRejectedError
from infra.twilio.video import TwilioRooms, VideoProviderError
from tests.contracts.twilio_openapi import (
    RefusedError,
    TwilioVideoServer,
    check_request,
    twilio_video_server,
)

ACCOUNT, KEY, KEY_SECRET = (
    "AC" + "1" * 32,
    "SK" + "2" * 32,
    "twilio-api-key-secret-0123456789abcdef",
)
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
PUBLIC = "https://slotwise.example.org"
CALLBACK = PUBLIC + "/v1/video/webhooks/twilio"
SPEC = RoomSpec("visit-1f0c", timedelta(minutes=20), timedelta(minutes=2), 4)
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def server() -> Iterator[TwilioVideoServer]:
    with twilio_video_server(ACCOUNT, KEY, KEY_SECRET) as running:
        yield running


@pytest.fixture
def rooms(server: TwilioVideoServer) -> TwilioRooms:
    return TwilioRooms(ACCOUNT, KEY, KEY_SECRET, AUTH_TOKEN, PUBLIC, video_base_url=server.base_url)


def test_opening_creates_a_group_room_by_unique_name_as_the_api_describes(
    server: TwilioVideoServer, rooms: TwilioRooms
) -> None:
    opened = rooms.open(SPEC)
    assert server.refusals == []
    [(method, template, form)] = server.requests
    assert (method, template) == ("POST", "/v1/Rooms")
    assert form["UniqueName"] == [SPEC.name]
    assert form["Type"] == ["group"]
    assert form["StatusCallback"] == [CALLBACK]
    assert form["MaxParticipants"] == ["4"]
    assert form["RecordParticipantsOnConnect"] == ["false"]
    assert (form["UnusedRoomTimeout"], form["EmptyRoomTimeout"]) == (["20"], ["2"])
    assert opened.name == SPEC.name
    assert opened.provider_room_id is not None
    assert opened.provider_room_id.startswith("RM")


def test_opening_twice_finds_the_in_progress_room(
    server: TwilioVideoServer, rooms: TwilioRooms
) -> None:
    first, second = rooms.open(SPEC), rooms.open(SPEC)
    assert first == second
    assert len(server.rooms) == 1
    assert [(m, t) for m, t, _ in server.requests] == [
        ("POST", "/v1/Rooms"),
        ("POST", "/v1/Rooms"),
        ("GET", "/v1/Rooms/{Sid}"),
    ]
    assert server.refusals == ["Room exists"]


def test_closing_completes_the_room_and_closing_again_is_harmless(
    server: TwilioVideoServer, rooms: TwilioRooms
) -> None:
    opened = rooms.open(SPEC)
    rooms.close(SPEC.name)
    rooms.close(SPEC.name)
    assert opened.provider_room_id is not None
    assert server.rooms[opened.provider_room_id]["status"] == "completed"
    method, template, form = server.requests[1]
    assert (method, template, form) == ("POST", "/v1/Rooms/{Sid}", {"Status": ["completed"]})
    # After completion the name is free again: a new room can be opened under it.
    assert rooms.open(SPEC).provider_room_id != opened.provider_room_id


def test_another_error_is_raised_with_status_and_code_only(server: TwilioVideoServer) -> None:
    url = server.base_url
    broken = TwilioRooms(ACCOUNT, KEY, "wrong-secret", AUTH_TOKEN, PUBLIC, video_base_url=url)
    with pytest.raises(VideoProviderError, match="HTTP 401, code 20003"):
        broken.open(SPEC)


def test_the_local_server_refuses_undescribed_parameters_and_bad_enums() -> None:
    form = "application/x-www-form-urlencoded"
    with pytest.raises(RefusedError, match="not described"):
        check_request(
            "POST", "/v1/Rooms", form, urlencode({"UniqueName": "a", "Bogus": "1"}).encode()
        )
    with pytest.raises(RefusedError, match="is not one of"):
        check_request("POST", "/v1/Rooms", form, urlencode({"Type": "huge"}).encode())
    with pytest.raises(RefusedError, match="is not of type 'integer'"):
        check_request("POST", "/v1/Rooms", form, urlencode({"MaxParticipants": "four"}).encode())
    with pytest.raises(RefusedError, match="'Status' is a required property"):
        check_request("POST", "/v1/Rooms/RM1", form, b"")
    with pytest.raises(RefusedError, match="is not described"):
        check_request("DELETE", "/v1/Rooms/RM1", None, b"")


def test_the_join_token_names_the_room_and_identity_and_ends_at_the_grants_end(
    rooms: TwilioRooms,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # still valid when decoded, however late
    grant = JoinGrant(SPEC.name, "provider:7", host=True, expires_at=now + timedelta(minutes=10))
    token = rooms.join_token(grant, now)
    claims = jwt.decode(token.token, KEY_SECRET, algorithms=["HS256"], issuer=KEY)
    assert claims["sub"] == ACCOUNT
    assert claims["grants"] == {"identity": "provider:7", "video": {"room": SPEC.name}}
    assert claims["exp"] == int(grant.expires_at.timestamp())
    assert claims["nbf"] == int(now.timestamp())
    assert token.expires_at == grant.expires_at


def _callback(**overrides: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT,
        "RoomSid": "RM" + "a" * 32,
        "RoomName": SPEC.name,
        "RoomStatus": "in-progress",
        "RoomType": "group",
        "StatusCallbackEvent": "participant-connected",
        "ParticipantSid": "PA" + "b" * 32,
        "ParticipantIdentity": "patient:3",
        "ParticipantStatus": "connected",
        "SequenceNumber": "3",
        "Timestamp": NOW.isoformat().replace("+00:00", "Z"),
        **overrides,
    }


def _signed(
    params: dict[str, str], url: str = CALLBACK, token: str = AUTH_TOKEN
) -> tuple[bytes, dict[str, str]]:
    signature = RequestValidator(token).compute_signature(url, params)
    return urlencode(params).encode(), {"X-Twilio-Signature": signature}


def test_a_signed_status_callback_is_read_into_a_neutral_event(rooms: TwilioRooms) -> None:
    event = rooms.webhook(*_signed(_callback()))
    assert event is not None
    assert (event.kind, event.room, event.identity, event.at) == (
        "participant_joined",
        SPEC.name,
        "patient:3",
        NOW,
    )
    assert event.event_id == "RM" + "a" * 32 + ":3"
    left = rooms.webhook(
        *_signed(_callback(StatusCallbackEvent="participant-disconnected", SequenceNumber="4"))
    )
    assert left is not None
    assert (left.kind, left.event_id.endswith(":4")) == ("participant_left", True)


def test_a_replayed_callback_has_the_same_event_id(rooms: TwilioRooms) -> None:
    first = rooms.webhook(*_signed(_callback()))
    assert first == rooms.webhook(*_signed(_callback()))


def test_a_forged_or_altered_callback_is_rejected(rooms: TwilioRooms) -> None:
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(*_signed(_callback(), token="not-the-auth-token"))
    body, headers = _signed(_callback())
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(body.replace(b"patient%3A3", b"patient%3A4"), headers)
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(body, {})


def test_a_callback_signed_for_another_url_is_rejected(rooms: TwilioRooms) -> None:
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(*_signed(_callback(), url="https://proxy.internal/v1/video/webhooks/twilio"))


def test_callbacks_the_product_does_not_record_are_none(rooms: TwilioRooms) -> None:
    assert rooms.webhook(*_signed(_callback(StatusCallbackEvent="track-added"))) is None


def test_recording_includes_every_track_by_recording_rules_and_stopping_excludes_them(
    server: TwilioVideoServer, rooms: TwilioRooms
) -> None:
    opened = rooms.open(SPEC)
    assert rooms.start_recording(SPEC.name) is None  # Twilio names no single recording
    rooms.start_recording(SPEC.name)
    rooms.stop_recording(SPEC.name)

    assert server.refusals == []  # every request as Twilio's description has it
    rules = [
        (form["Rules"], template)
        for method, template, form in server.requests
        if template.endswith("/RecordingRules")
    ]
    include, exclude = '[{"type": "include", "all": true}]', '[{"type": "exclude", "all": true}]'
    assert [r for r, _ in rules] == [[include], [include], [exclude]]
    assert server.rooms[str(opened.provider_room_id)]["recording_rules"] == [
        {"type": "exclude", "all": True}
    ]
    fetched = [t for m, t, _ in server.requests if (m, t) == ("GET", "/v1/Rooms/{Sid}")]
    assert len(fetched) == 3  # the rules are set on the room's sid, found by its name


def test_stopping_the_recording_of_an_ended_room_asks_nothing_more_and_recording_one_fails(
    server: TwilioVideoServer, rooms: TwilioRooms
) -> None:
    rooms.open(SPEC)
    rooms.close(SPEC.name)
    rooms.stop_recording(SPEC.name)
    assert not [t for _, t, _ in server.requests if t.endswith("/RecordingRules")]
    with pytest.raises(VideoProviderError, match="no in-progress room"):
        rooms.start_recording(SPEC.name)


def test_recording_rules_that_are_not_json_are_refused_by_the_description() -> None:
    path = "/v1/Rooms/RM" + "a" * 32 + "/RecordingRules"
    with pytest.raises(RefusedError, match="Rules is not JSON"):
        check_request("POST", path, "application/x-www-form-urlencoded", b"Rules=%5Bnot")
    assert (
        check_request(
            "POST", path, "application/x-www-form-urlencoded", urlencode({"Rules": "[]"}).encode()
        )
        == "/v1/Rooms/{RoomSid}/RecordingRules"
    )
