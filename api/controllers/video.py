"""Video visits (issue 13), the commands: join tokens bound to the visit, guests, recording
consent and recording. The reads are in `video_record.py`, the webhooks in `video_webhooks.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from api.deps import Injected
from api.openapi import COMMAND, documented
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.ports import Clock, JoinGrant, VideoRooms
from commands.scheduling import Scheduling
from commands.structs import CommandResult, Name
from commands.telehealth.messages import (
    InviteVideoGuest,
    RecordRecordingConsent,
    StartRecording,
    StopRecording,
)
from domain.actor import Actor
from domain.errors import ConflictError


class JoinBody(Body, frozen=True, kw_only=True):
    """Staff name the invited guest they fetch a token for; patients and providers send `{}`."""

    guest_id: UUID | None = None


class GuestBody(Body, frozen=True, kw_only=True):
    name: Name
    role: Literal["interpreter", "caregiver"]


class JoinAnswer(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    room: str
    identity: str
    host: bool
    expires_at: datetime
    server_url: str | None


def _rooms(services_video: VideoRooms | None) -> VideoRooms:
    if services_video is None:
        raise ConflictError("video visits are not configured on this server")
    return services_video


class VideoController(Controller):
    path = "/v1/appointments/{appointment_id:uuid}/video"
    tags = ["video"]

    @post(
        "/join",
        status_code=200,
        sync_to_thread=True,
        summary="A short-lived token to join the visit's video room",
        dto=StrictBody[JoinBody],
        return_dto=None,
        **documented("joinVideoVisit", *COMMAND),
    )
    def join(
        self,
        scheduling: Injected[Scheduling],
        video_rooms: Injected[VideoRooms | None],
        clock: Injected[Clock],
        actor: Injected[Actor],
        appointment_id: FromPath[UUID],
        data: JSONBody[JoinBody],
    ) -> JoinAnswer:
        """Only the visit's patient and provider (for themselves) and staff (for a guest they
        invited); from the check-in window's start to the end plus the grace, never for an
        ended visit, once the room is open (409 `video-room-not-open` with Retry-After until
        then). The provider's token carries host rights where the provider has them."""
        rooms = _rooms(video_rooms)
        grant = scheduling.join_grant(appointment_id, actor, data.guest_id)
        now = clock.now()
        token = rooms.join_token(
            JoinGrant(grant.room, grant.identity, grant.host, grant.expires_at), now
        )
        return JoinAnswer(
            token=token.token,
            room=grant.room,
            identity=grant.identity,
            host=grant.host,
            expires_at=token.expires_at,
            server_url=token.server_url,
        )

    @post(
        "/guests",
        status_code=201,
        sync_to_thread=True,
        summary="Invite an interpreter or a caregiver (staff)",
        dto=StrictBody[GuestBody],
        return_dto=None,
        **documented("inviteVideoGuest", *COMMAND),
    )
    def invite(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[GuestBody],
    ) -> CommandResult:
        command = InviteVideoGuest(
            appointment_id=appointment_id, guest_name=data.name, role=data.role
        )
        return scheduling.invite_video_guest(command, context)

    @post(
        "/recording-consent",
        status_code=201,
        sync_to_thread=True,
        summary="Record the patient's consent to recording this visit",
        **documented("recordRecordingConsent", *COMMAND),
    )
    def consent(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        command = RecordRecordingConsent(appointment_id=appointment_id)
        return scheduling.record_recording_consent(command, context)

    @post(
        "/recording/start",
        status_code=201,
        sync_to_thread=True,
        summary="Start recording (the visit's provider; needs the patient's consent)",
        **documented("startVideoRecording", *COMMAND),
    )
    def start_recording(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.start_recording(StartRecording(appointment_id=appointment_id), context)

    @post(
        "/recording/stop",
        status_code=201,
        sync_to_thread=True,
        summary="Stop recording (the visit's provider)",
        **documented("stopVideoRecording", *COMMAND),
    )
    def stop_recording(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.stop_recording(StopRecording(appointment_id=appointment_id), context)
