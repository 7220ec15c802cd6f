"""A local Twilio Video v1 of the tests' own, checked against Twilio's published OpenAPI
description (`twilio/twilio_video_v1.json`, vendored with its provenance) by
`twilio_described.py`, so the fake cannot drift from the real API."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.contracts.twilio_described import Described, RefusedError, twilio_serving

__all__ = ["RefusedError", "TwilioVideoServer", "check_request", "twilio_video_server"]

VIDEO = Described(Path(__file__).parent / "twilio" / "twilio_video_v1.json", "Twilio Video v1")
check_request = VIDEO.check_request


@dataclass
class TwilioVideoServer:
    account_sid: str
    key_sid: str
    key_secret: str
    base_url: str = ""
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)  # by sid
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        path = urlsplit(target).path
        expected = base64.b64encode(f"{self.key_sid}:{self.key_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            raise RefusedError(401, "Authenticate", 20003)
        template = check_request(method, path, headers.get("content-type"), body)
        form = parse_qs(body.decode(), keep_blank_values=True)
        self.requests.append((method, template, form))
        status, payload = self._answer(method, template, path, form)
        VIDEO.check_response(template, method, status, payload)
        return status, payload

    def _find(self, sid_or_name: str) -> dict[str, Any]:
        for room in self.rooms.values():
            if room["sid"] == sid_or_name or (
                room["unique_name"] == sid_or_name and room["status"] == "in-progress"
            ):
                return room
        raise RefusedError(404, "The requested resource was not found", 20404)

    def _answer(
        self, method: str, template: str, path: str, form: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        def one(name: str, default: str | None = None) -> str | None:
            return form.get(name, [default])[0]

        if (method, template) == ("POST", "/v1/Rooms"):
            name = one("UniqueName") or ""
            if any(
                r["unique_name"] == name and r["status"] == "in-progress"
                for r in self.rooms.values()
            ):
                raise RefusedError(400, "Room exists", 53113)
            room = self._room(name, form)
            self.rooms[room["sid"]] = room
            return 201, room
        if template == "/v1/Rooms/{Sid}":
            room = self._find(path.rsplit("/", 1)[1])
            if method == "POST":
                if room["status"] != "in-progress":
                    raise RefusedError(404, "The requested resource was not found", 20404)
                room["status"] = one("Status")
                room["end_time"] = _now()
                return 202, room
            return 200, room
        if template == "/v1/Rooms/{RoomSid}/RecordingRules":
            room = self._find(path.split("/")[3])
            if not room["sid"] == path.split("/")[3]:
                raise RefusedError(404, "The requested resource was not found", 20404)
            if method == "POST":
                if room["status"] != "in-progress":
                    raise RefusedError(400, "Room is not in-progress", 53205)
                room["recording_rules"] = json.loads(one("Rules") or "[]")
            rules = {
                "room_sid": room["sid"],
                "rules": room.get("recording_rules", []),
                "date_created": room["date_created"],
                "date_updated": _now(),
            }
            return 200, rules
        raise RefusedError(405, f"{method} {template} is not served by this fake")

    def _room(self, name: str, form: dict[str, list[str]]) -> dict[str, Any]:
        sid = "RM" + uuid.uuid4().hex
        url = f"{self.base_url}/v1/Rooms/{sid}"

        def number(key: str, default: int) -> int:
            return int(form.get(key, [str(default)])[0])

        return {
            "sid": sid,
            "status": "in-progress",
            "date_created": _now(),
            "date_updated": _now(),
            "account_sid": self.account_sid,
            "enable_turn": True,
            "unique_name": name,
            "status_callback": form.get("StatusCallback", [None])[0],
            "status_callback_method": form.get("StatusCallbackMethod", ["POST"])[0],
            "end_time": None,
            "duration": None,
            "type": form.get("Type", ["group"])[0],
            "max_participants": number("MaxParticipants", 50),
            "max_participant_duration": number("MaxParticipantDuration", 14400),
            "max_concurrent_published_tracks": 170,
            "record_participants_on_connect": form.get("RecordParticipantsOnConnect", ["false"])[0]
            == "true",
            "video_codecs": ["VP8", "H264"],
            "media_region": "us1",
            "audio_only": False,
            "empty_room_timeout": number("EmptyRoomTimeout", 5),
            "unused_room_timeout": number("UnusedRoomTimeout", 5),
            "large_room": False,
            "url": url,
            "links": {"participants": f"{url}/Participants", "recordings": f"{url}/Recordings"},
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def twilio_video_server(
    account_sid: str, key_sid: str, key_secret: str
) -> Iterator[TwilioVideoServer]:
    with twilio_serving(TwilioVideoServer(account_sid, key_sid, key_secret)) as server:
        yield server
