"""Twilio Programmable Video behind the `VideoRooms` port, with the `twilio` SDK: Group rooms
by unique name (the appointment-derived room name) through `video.v1.rooms`, closed by setting
their status to `completed`; joins with an AccessToken and a VideoGrant. Status callbacks are
read in `video_webhooks.py`.

Twilio's VideoGrant names a room and nothing else: it has no host rights, so the provider's
token is no stronger than the patient's; muting and removing go through the REST API, which
only Slotwise holds the keys to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from twilio.rest import Client

from commands.ports import JoinGrant, JoinToken, OpenedRoom, RoomSpec, VideoEvent
from infra.twilio.video_webhooks import StatusCallbacks

ROOM_EXISTS = 53113  # "Unable to create Room: Room exists" (an in-progress room has that name)
WEBHOOK_PATH = "/v1/video/webhooks/twilio"


class VideoProviderError(RuntimeError):
    """Twilio refused or failed a call; the message holds its status and code only."""


def _minutes(seconds: float) -> int:
    # Twilio's room timeouts are whole minutes from 1 to 60.
    return min(max(round(seconds / 60), 1), 60)


class TwilioRooms:
    provider = "twilio"

    def __init__(
        self,
        account_sid: str,
        api_key_sid: str,
        api_key_secret: str,
        auth_token: str,
        public_base_url: str,
        video_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._key_sid = api_key_sid
        self._key_secret = api_key_secret
        self._client = Client(
            api_key_sid, api_key_secret, account_sid, http_client=TwilioHttpClient(timeout=timeout)
        )
        if video_base_url is not None:  # tests: a local server of their own
            self._client.video.base_url = video_base_url
        self.status_callback = public_base_url.rstrip("/") + WEBHOOK_PATH
        self._callbacks = StatusCallbacks(auth_token, self.status_callback)

    def open(self, spec: RoomSpec) -> OpenedRoom:
        rooms = self._client.video.v1.rooms
        try:
            room = rooms.create(
                unique_name=spec.name,
                type="group",
                status_callback=self.status_callback,
                status_callback_method="POST",
                max_participants=spec.max_participants,
                record_participants_on_connect=False,  # recording needs the patient's consent
                unused_room_timeout=_minutes(spec.empty_timeout.total_seconds()),
                empty_room_timeout=_minutes(spec.departure_timeout.total_seconds()),
            )
        except TwilioRestException as error:
            if error.code != ROOM_EXISTS:
                raise _failed("create a room", error) from None
            try:
                room = rooms(spec.name).fetch()
            except TwilioRestException as again:
                raise _failed("fetch a room", again) from None
        return OpenedRoom(room.unique_name or spec.name, room.sid)

    def close(self, name: str) -> None:
        try:
            self._client.video.v1.rooms(name).update(status="completed")
        except TwilioRestException as error:
            if error.status == 404:  # no in-progress room of that name: closed already
                return
            raise _failed("complete a room", error) from None

    def start_recording(self, name: str) -> str | None:
        """Recording Rules: include every track of the room (it was created recording nothing,
        `RecordParticipantsOnConnect=false`). Twilio records per track and names no single
        recording, so there is no id to return."""
        sid = self._room_sid(name)
        if sid is None:
            raise VideoProviderError("Twilio has no in-progress room of that name to record")
        self._rules(sid, "include")
        return None

    def stop_recording(self, name: str) -> None:
        """Recording Rules: exclude every track; a room that has ended records nothing."""
        sid = self._room_sid(name)
        if sid is not None:
            self._rules(sid, "exclude")

    def _room_sid(self, name: str) -> str | None:
        try:
            room = self._client.video.v1.rooms(name).fetch()
        except TwilioRestException as error:
            if error.status == 404:
                return None
            raise _failed("fetch a room", error) from None
        return None if room.status != "in-progress" else room.sid

    def _rules(self, sid: str, kind: str) -> None:
        rules = [{"type": kind, "all": True}]
        try:
            self._client.video.v1.rooms(sid).recording_rules.update(rules=rules)
        except TwilioRestException as error:
            raise _failed("update the recording rules", error) from None

    def join_token(self, grant: JoinGrant, now: datetime) -> JoinToken:
        token = AccessToken(
            self._account_sid,
            self._key_sid,
            self._key_secret,
            identity=grant.identity,
            nbf=int(now.timestamp()),
            valid_until=int(grant.expires_at.timestamp()),  # exp itself, not the clock plus a ttl
        )
        token.add_grant(VideoGrant(room=grant.room))
        return JoinToken(token.to_jwt(), grant.expires_at, None)

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> VideoEvent | None:
        return self._callbacks.read(body, headers)


def _failed(what: str, error: TwilioRestException) -> VideoProviderError:
    return VideoProviderError(f"Twilio could not {what}: HTTP {error.status}, code {error.code}")
