"""LiveKit behind the `VideoRooms` port: RoomService over Twirp, AccessToken for joins and
WebhookReceiver for webhooks, all from the `livekit-api` SDK.

The SDK is async only (aiohttp). The port stays synchronous, like its callers and like
Twilio's SDK, so this adapter owns one event loop on a thread of its own and hands each call to
it: the aiohttp session is created, used and closed on that loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from livekit import api
from livekit.protocol.models import DisconnectReason

from commands.ports import (
    JoinGrant,
    JoinToken,
    OpenedRoom,
    RoomSpec,
    VideoEvent,
    WebhookRejectedError,
    video_event_kind,
)

T = TypeVar("T")
RECORDING_FILEPATH = "recordings/{room_name}-{time}.mp4"


class VideoProviderError(RuntimeError):
    """The video provider refused or failed a call; the message holds its code only."""


class LiveKitRooms:
    provider = "livekit"

    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        timeout: float = 10.0,
        recording_filepath: str = RECORDING_FILEPATH,
    ) -> None:
        """`recording_filepath`: where egress writes a recording, in its own storage (S3, GCS,
        Azure as configured on the egress server), with its `{room_name}` and `{time}`."""
        self.url = url
        self._recording_filepath = recording_filepath
        self._key = api_key
        self._secret = api_secret
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="livekit-loop", daemon=True
        )
        self._thread.start()
        self._api = self._call(self._connect())
        self._webhooks = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))

    async def _connect(self) -> api.LiveKitAPI:
        # No region failover: that is for LiveKit Cloud, and a self-hosted server has one origin.
        return api.LiveKitAPI(
            self.url,
            self._key,
            self._secret,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            failover=False,
        )

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(self._timeout + 5)

    def shutdown(self) -> None:
        """Close the SDK's session and stop the loop (once, when the process ends)."""
        try:
            self._call(self._api.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()

    def open(self, spec: RoomSpec) -> OpenedRoom:
        """CreateRoom returns the existing room of that name, so opening twice is harmless."""
        request = api.CreateRoomRequest(
            name=spec.name,
            empty_timeout=int(spec.empty_timeout.total_seconds()),
            departure_timeout=int(spec.departure_timeout.total_seconds()),
            max_participants=spec.max_participants,
        )
        try:
            room = self._call(self._api.room.create_room(request))
        except api.TwirpError as error:
            raise VideoProviderError(f"LiveKit CreateRoom failed: {error.code}") from None
        return OpenedRoom(room.name, room.sid or None)

    def close(self, name: str) -> None:
        try:
            self._call(self._api.room.delete_room(api.DeleteRoomRequest(room=name)))
        except api.TwirpError as error:
            if error.code == api.TwirpErrorCode.NOT_FOUND:
                return  # closed already, or never opened
            raise VideoProviderError(f"LiveKit DeleteRoom failed: {error.code}") from None

    def participants(self, name: str) -> list[str]:
        """The identities in the room now (ListParticipants)."""
        request = api.ListParticipantsRequest(room=name)
        try:
            listed = self._call(self._api.room.list_participants(request))
        except api.TwirpError as error:
            raise VideoProviderError(f"LiveKit ListParticipants failed: {error.code}") from None
        return [participant.identity for participant in listed.participants]

    def start_recording(self, name: str) -> str | None:
        """A room composite egress (everyone, grid layout) to an MP4 file at the egress
        server's configured storage; an egress of the room still starting or active is kept."""
        running = self._active_egress(name)
        if running:
            return running[0]
        request = api.RoomCompositeEgressRequest(
            room_name=name,
            layout="grid",
            file_outputs=[
                api.EncodedFileOutput(
                    file_type=api.EncodedFileType.MP4, filepath=self._recording_filepath
                )
            ],
        )
        try:
            info = self._call(self._api.egress.start_room_composite_egress(request))
        except api.TwirpError as error:
            raise VideoProviderError(
                f"LiveKit StartRoomCompositeEgress failed: {error.code}"
            ) from None
        return info.egress_id or None

    def stop_recording(self, name: str) -> None:
        for egress_id in self._active_egress(name):
            try:
                self._call(self._api.egress.stop_egress(api.StopEgressRequest(egress_id=egress_id)))
            except api.TwirpError as error:
                if error.code in (
                    api.TwirpErrorCode.NOT_FOUND,
                    api.TwirpErrorCode.FAILED_PRECONDITION,
                ):
                    continue  # ended meanwhile
                raise VideoProviderError(f"LiveKit StopEgress failed: {error.code}") from None

    def _active_egress(self, name: str) -> list[str]:
        """The ids of the room's egresses still starting or active (ListEgress)."""
        request = api.ListEgressRequest(room_name=name, active=True)
        try:
            listed = self._call(self._api.egress.list_egress(request))
        except api.TwirpError as error:
            raise VideoProviderError(f"LiveKit ListEgress failed: {error.code}") from None
        live = (api.EgressStatus.EGRESS_STARTING, api.EgressStatus.EGRESS_ACTIVE)
        return [e.egress_id for e in listed.items if e.status in live]

    def join_token(self, grant: JoinGrant, now: datetime) -> JoinToken:
        grants = api.VideoGrants(
            room_join=True,
            room=grant.room,
            # Mute and remove others (RoomService calls with this token): the provider only.
            room_admin=grant.host or None,
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
            can_update_own_metadata=False,
        )
        # The SDK stamps nbf and exp from the wall clock, so the lifetime is measured from it:
        # the token then ends at `expires_at` whatever the gap since `now`.
        ttl = grant.expires_at - datetime.now(UTC)
        token = (
            api.AccessToken(self._key, self._secret)
            .with_identity(grant.identity)
            .with_ttl(ttl)
            .with_grants(grants)
        )
        return JoinToken(token.to_jwt(), grant.expires_at, self.url)

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> VideoEvent | None:
        """LiveKit signs the raw body's SHA-256 in a JWT in `Authorization`; the body must be
        the bytes received, not a re-serialisation."""
        auth = _header(headers, "authorization")
        if auth is None:
            raise WebhookRejectedError("no Authorization header")
        try:
            event = self._webhooks.receive(body.decode("utf-8"), auth)
        except Exception:  # the SDK raises plain exceptions and PyJWT's for every failure
            raise WebhookRejectedError("the webhook's signature did not verify") from None
        kind = video_event_kind(event.event)
        if kind is None or not event.id:
            return None
        reason = None
        if kind == "participant_left" and event.participant.disconnect_reason:
            reason = DisconnectReason.Name(event.participant.disconnect_reason).lower()
        return VideoEvent(
            event_id=event.id,
            kind=kind,
            room=event.room.name,
            at=datetime.fromtimestamp(event.created_at, UTC),
            identity=event.participant.identity or None,
            disconnect_reason=reason,
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
