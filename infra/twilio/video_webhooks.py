"""Twilio Video status callbacks: form-encoded POSTs signed in `X-Twilio-Signature` over the
URL Twilio called (the configured public one, not what a proxy shows us) and the parameters.

They carry no event id: the room sid and the callback's `SequenceNumber` (which counts up per
room) identify one, so a redelivery is recognised."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from commands.ports import VideoEvent, VideoEventKind, WebhookRejectedError

KINDS: dict[str, VideoEventKind] = {
    "participant-connected": "participant_joined",
    "participant-disconnected": "participant_left",
    "room-ended": "room_finished",
}


class StatusCallbacks:
    def __init__(self, auth_token: str, url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self.url = url

    def read(self, body: bytes, headers: Mapping[str, str]) -> VideoEvent | None:
        lowered = {key.lower(): value for key, value in headers.items()}
        signature = lowered.get("x-twilio-signature")
        if not signature:
            raise WebhookRejectedError("no X-Twilio-Signature header")
        try:
            params = dict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            )
        except (UnicodeDecodeError, ValueError):
            raise WebhookRejectedError("the callback's body is not a form") from None
        if not self._validator.validate(self.url, params, signature):
            raise WebhookRejectedError("the callback's signature did not verify")
        kind = KINDS.get(params.get("StatusCallbackEvent", ""))
        if kind is None:
            return None
        try:
            room_sid, sequence = params["RoomSid"], int(params["SequenceNumber"])
            at = datetime.fromisoformat(params["Timestamp"])
            room = params["RoomName"]
        except (KeyError, ValueError):
            raise WebhookRejectedError("the callback lacks its room, sequence or time") from None
        if at.tzinfo is None:
            raise WebhookRejectedError("the callback's Timestamp has no offset")
        return VideoEvent(
            event_id=f"{room_sid}:{sequence}",
            kind=kind,
            room=room,
            at=at,
            identity=params.get("ParticipantIdentity") or None,
        )
