"""The loopback video provider for `make run` in dev mode and for tests: no network. It keeps
the rooms it opened and closed, mints HS256 tokens a test decodes with its `secret`, and reads
webhooks a test (or a developer with curl) signs with the same secret:
`X-Loopback-Signature: hex(HMAC-SHA256(secret, raw body))` over a JSON body
`{"id", "event", "room", "at", "identity", "reason"}`."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt

from commands.ports import (
    JoinGrant,
    JoinToken,
    OpenedRoom,
    RoomSpec,
    VideoEvent,
    WebhookRejectedError,
    video_event_kind,
)

DEV_SECRET = "slotwise-loopback-video-secret-for-dev-and-tests"  # noqa: S105 - dev only


class LoopbackRoomClosedError(RuntimeError):
    """Recording asked of a room that is not open (a provider refuses that too)."""


@dataclass
class LoopbackRooms:
    secret: str = DEV_SECRET
    provider: str = "loopback"
    open_rooms: dict[str, RoomSpec] = field(default_factory=dict)
    # ("open" | "close" | "start_recording" | "stop_recording", name)
    calls: list[tuple[str, str]] = field(default_factory=list)
    recording: set[str] = field(default_factory=set)  # rooms being recorded
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def open(self, spec: RoomSpec) -> OpenedRoom:
        with self._lock:
            self.calls.append(("open", spec.name))
            self.open_rooms.setdefault(spec.name, spec)
        return OpenedRoom(spec.name, f"loopback-{spec.name}")

    def close(self, name: str) -> None:
        with self._lock:
            self.calls.append(("close", name))
            self.open_rooms.pop(name, None)
            self.recording.discard(name)  # a recording ends with its room

    def start_recording(self, name: str) -> str | None:
        with self._lock:
            self.calls.append(("start_recording", name))
            if name not in self.open_rooms:
                raise LoopbackRoomClosedError("no open room of that name to record")
            self.recording.add(name)
        return f"loopback-recording-{name}"

    def stop_recording(self, name: str) -> None:
        with self._lock:
            self.calls.append(("stop_recording", name))
            self.recording.discard(name)

    def join_token(self, grant: JoinGrant, now: datetime) -> JoinToken:
        claims = {
            "sub": grant.identity,
            "room": grant.room,
            "host": grant.host,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(grant.expires_at.timestamp()),
        }
        token = jwt.encode(claims, self.secret, algorithm="HS256")
        return JoinToken(token, grant.expires_at, None)

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> VideoEvent | None:
        lowered = {key.lower(): value for key, value in headers.items()}
        signature = lowered.get("x-loopback-signature", "")
        if not hmac.compare_digest(signature, self.sign(body)):
            raise WebhookRejectedError("the webhook's signature did not verify")
        try:
            data: dict[str, Any] = json.loads(body)
            kind = video_event_kind(data["event"])
            if kind is None:
                return None
            at = datetime.fromisoformat(data["at"])
            event_id, room = str(data["id"]), str(data["room"])
        except (ValueError, KeyError, TypeError):
            raise WebhookRejectedError("the webhook's body is malformed") from None
        if at.tzinfo is None:
            raise WebhookRejectedError("the webhook's time has no offset")
        return VideoEvent(
            event_id=event_id,
            kind=kind,
            room=room,
            at=at,
            identity=data.get("identity"),
            disconnect_reason=data.get("reason"),
        )
