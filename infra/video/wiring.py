"""Builds the video provider the settings name; the rest of the code sees only `VideoRooms`."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from commands.ports import VideoRooms
from infra.settings import Settings, SettingsError
from infra.video.loopback import LoopbackRooms


def _require(**values: str | None) -> dict[str, str]:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SettingsError(f"the video provider needs {', '.join(missing)}")
    return {name: value for name, value in values.items() if value}


@contextmanager
def video_rooms(settings: Settings) -> Iterator[VideoRooms]:
    """The configured provider's rooms, shut down when the `with` ends. Vendor modules are
    imported only when chosen."""
    video = settings.video
    if video.provider == "loopback":
        if not settings.dev_kek_allowed:
            msg = "SLOTWISE_VIDEO_PROVIDER=loopback is for dev and test mode: "
            raise SettingsError(msg + "choose livekit or twilio")
        yield LoopbackRooms()
        return
    if video.provider == "livekit":
        given = _require(
            LIVEKIT_URL=video.livekit_url,
            LIVEKIT_API_KEY=video.livekit_api_key,
            LIVEKIT_API_SECRET=video.livekit_api_secret,
        )
        module = importlib.import_module("infra.livekit.rooms")
        rooms = module.LiveKitRooms(
            given["LIVEKIT_URL"], given["LIVEKIT_API_KEY"], given["LIVEKIT_API_SECRET"]
        )
        try:
            yield rooms
        finally:
            rooms.shutdown()
        return
    given = _require(
        TWILIO_ACCOUNT_SID=video.twilio_account_sid,
        TWILIO_API_KEY_SID=video.twilio_api_key_sid,
        TWILIO_API_KEY_SECRET=video.twilio_api_key_secret,
        TWILIO_AUTH_TOKEN=video.twilio_auth_token,
        SLOTWISE_PUBLIC_BASE_URL=video.public_base_url,
    )
    module = importlib.import_module("infra.twilio.video")
    yield module.TwilioRooms(
        given["TWILIO_ACCOUNT_SID"],
        given["TWILIO_API_KEY_SID"],
        given["TWILIO_API_KEY_SECRET"],
        given["TWILIO_AUTH_TOKEN"],
        given["SLOTWISE_PUBLIC_BASE_URL"],
    )
