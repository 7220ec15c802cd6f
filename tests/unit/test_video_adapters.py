"""The video settings, the choice of adapter, and the loopback adapter dev mode uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from commands.ports import JoinGrant, RoomSpec, WebhookRejectedError
from infra.settings import Settings, SettingsError
from infra.video.loopback import LoopbackRooms
from infra.video.wiring import video_rooms

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PRODUCTION = {"SLOTWISE_MODE": "production", "SLOTWISE_JWT_SECRET": "s" * 40}


def test_dev_mode_defaults_to_loopback_and_production_to_livekit() -> None:
    assert Settings.from_env({"SLOTWISE_MODE": "dev"}).video.provider == "loopback"
    production = Settings.from_env(PRODUCTION).video
    assert production.provider == "livekit"
    assert production.lead == timedelta(minutes=10)


def test_the_lead_and_provider_are_read_from_the_environment() -> None:
    env = {"SLOTWISE_MODE": "dev", "SLOTWISE_VIDEO_LEAD_MINUTES": "15"}
    video = Settings.from_env({**env, "SLOTWISE_VIDEO_PROVIDER": "twilio"}).video
    assert (video.provider, video.lead) == ("twilio", timedelta(minutes=15))
    with pytest.raises(SettingsError, match="SLOTWISE_VIDEO_PROVIDER"):
        Settings.from_env({**env, "SLOTWISE_VIDEO_PROVIDER": "zoom"})


def test_production_refuses_the_loopback_and_names_missing_credentials() -> None:
    loopback = Settings.from_env({**PRODUCTION, "SLOTWISE_VIDEO_PROVIDER": "loopback"})
    with pytest.raises(SettingsError, match="dev and test"), video_rooms(loopback):
        pass
    livekit = Settings.from_env({**PRODUCTION, "LIVEKIT_URL": "http://127.0.0.1:7880"})
    missing = "LIVEKIT_API_KEY, LIVEKIT_API_SECRET"
    with pytest.raises(SettingsError, match=missing), video_rooms(livekit):
        pass
    twilio = Settings.from_env({**PRODUCTION, "SLOTWISE_VIDEO_PROVIDER": "twilio"})
    with pytest.raises(SettingsError, match="SLOTWISE_PUBLIC_BASE_URL"), video_rooms(twilio):
        pass


def test_the_loopback_records_calls_and_mints_tokens_a_test_can_decode() -> None:
    rooms = LoopbackRooms()
    spec = RoomSpec("visit-1", timedelta(minutes=20), timedelta(minutes=2), 4)
    assert rooms.open(spec) == rooms.open(spec)
    rooms.close("visit-1")
    assert rooms.calls == [("open", "visit-1"), ("open", "visit-1"), ("close", "visit-1")]
    assert rooms.open_rooms == {}
    grant = JoinGrant("visit-1", "patient:1", host=False, expires_at=NOW + timedelta(minutes=5))
    token = rooms.join_token(grant, NOW)
    claims = jwt.decode(
        token.token, rooms.secret, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert (claims["sub"], claims["room"], claims["host"]) == ("patient:1", "visit-1", False)
    assert claims["exp"] == int(grant.expires_at.timestamp())


def test_the_loopback_verifies_its_webhooks() -> None:
    rooms = LoopbackRooms()
    body = json.dumps(
        {"id": "e1", "event": "participant_joined", "room": "visit-1", "at": NOW.isoformat()}
    ).encode()
    event = rooms.webhook(body, {"X-Loopback-Signature": rooms.sign(body)})
    assert event is not None
    assert (event.event_id, event.kind, event.at) == ("e1", "participant_joined", NOW)
    with pytest.raises(WebhookRejectedError):
        rooms.webhook(body + b" ", {"X-Loopback-Signature": rooms.sign(body)})
