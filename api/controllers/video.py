"""Video visits (issue 13): join tokens bound to the visit, guests, recording consent and
recording, the room's record, and the video provider's webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
import structlog
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, RawBody

from api.deps import Injected, MinPosition, reads
from api.openapi import COMMAND, FOUND_OR_NOT, GUARDED, QUERY, documented
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.ports import Clock, JoinGrant, VideoRooms
from commands.scheduling import Scheduling
from commands.structs import CommandResult, Name
from commands.telehealth.messages import (
    InviteVideoGuest,
    RecordRecordingConsent,
    RecordVideoEvent,
    StartRecording,
    StopRecording,
)
from domain.access import may_see
from domain.actor import Actor, Role
from domain.errors import ConflictError, ForbiddenError, NotFoundError
from domain.video_room import appointment_of
from projections.video import VideoProjection, VideoQueries, VideoVisit

log = structlog.stdlib.get_logger("slotwise.video")
WEBHOOK_ACTOR = Actor(UUID("00000000-0000-4000-8000-0000000f1de1"), Role.SYSTEM)


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


class ParticipantView(msgspec.Struct, frozen=True, kw_only=True):
    identity: str
    role: str
    first_joined_at: datetime | None
    in_room_since: datetime | None
    last_left_at: datetime | None
    seconds_in_room: float
    reconnects: int
    last_disconnect_reason: str | None


class RecordingView(msgspec.Struct, frozen=True, kw_only=True):
    started_at: datetime
    stopped_at: datetime | None


class VideoView(msgspec.Struct, frozen=True, kw_only=True):
    appointment_id: UUID
    room: str
    provider: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    participants: list[ParticipantView]
    patient_wait_seconds: float | None
    duration_seconds: float | None
    recording_consent_recorded_at: datetime | None
    recording_consent_recorded_by_role: str | None
    recordings: list[RecordingView] | None  # the care team only


def _view(visit: VideoVisit, actor: Actor) -> VideoView:
    care_team = actor.role in (Role.PROVIDER, Role.STAFF)
    return VideoView(
        appointment_id=visit.appointment_id,
        room=visit.room_name,
        provider=visit.provider,
        status=visit.status,
        opened_at=visit.opened_at,
        closed_at=visit.closed_at,
        close_reason=visit.close_reason,
        participants=[
            ParticipantView(
                identity=p.identity,
                role=p.role,
                first_joined_at=p.first_joined_at,
                in_room_since=p.in_room_since,
                last_left_at=p.last_left_at,
                seconds_in_room=p.seconds_in_room,
                reconnects=p.reconnects,
                last_disconnect_reason=p.last_disconnect_reason,
            )
            for p in visit.participants
        ],
        patient_wait_seconds=visit.patient_wait_seconds,
        duration_seconds=visit.duration_seconds,
        recording_consent_recorded_at=visit.consent_recorded_at,
        recording_consent_recorded_by_role=visit.consent_recorded_by_role,
        recordings=[
            RecordingView(started_at=r.started_at, stopped_at=r.stopped_at)
            for r in visit.recordings
        ]
        if care_team
        else None,
    )


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

    @get(
        "/",
        sync_to_thread=True,
        summary="The visit's room: who joined when, time in room, wait, duration, recordings",
        dependencies={"position": reads(VideoProjection.name)},
        **documented("getVideoVisit", *QUERY, *FOUND_OR_NOT),
    )
    def get_video(
        self,
        video_queries: Injected[VideoQueries | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        appointment_id: FromPath[UUID],
    ) -> VideoView:
        visit = video_queries.visit(appointment_id) if video_queries else None
        if visit is None or not may_see(actor, visit):
            raise NotFoundError(f"appointment {appointment_id} has no video room")
        return _view(visit, actor)


class NoShowCandidates(msgspec.Struct, frozen=True, kw_only=True):
    """Video visits past the start plus the grace whose patient never joined: for staff to
    decide on (a no-show is never recorded automatically)."""

    appointment_ids: list[UUID]


class VideoWebhookController(Controller):
    path = "/v1/video"
    tags = ["video"]

    @post(
        "/webhooks/{provider:str}",
        status_code=204,
        sync_to_thread=True,
        summary="The video provider's webhooks (verified by signature; no bearer token)",
        security=[],
        **documented("receiveVideoWebhook", 401, *FOUND_OR_NOT),
    )
    def webhook(
        self,
        scheduling: Injected[Scheduling],
        video_rooms: Injected[VideoRooms | None],
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        body: RawBody,
    ) -> None:
        """Joins and leaves are recorded once per provider event id; anything else is
        acknowledged and ignored. The raw body is verified as received."""
        rooms = video_rooms
        if rooms is None or provider != rooms.provider:
            raise NotFoundError(f"no video provider {provider!r} here")
        event = rooms.webhook(body, dict(request.headers))
        if event is None:
            return
        appointment_id = appointment_of(event.room)
        if appointment_id is None:
            log.info("video webhook for a room not ours", kind=event.kind)
            return
        command = RecordVideoEvent(
            appointment_id=appointment_id,
            event_id=event.event_id,
            kind=event.kind,
            identity=event.identity,
            at=event.at,
            disconnect_reason=event.disconnect_reason,
        )
        try:
            scheduling.record_video_event(command, CommandContext(WEBHOOK_ACTOR))
        except (NotFoundError, ConflictError) as refused:
            # A room we never opened (or an appointment gone): acknowledged, so the provider
            # does not redeliver it forever.
            log.info(
                "video webhook ignored",
                appointment_id=str(appointment_id),
                refused=type(refused).__name__,
            )

    @get(
        "/no-show-candidates",
        sync_to_thread=True,
        summary="Video visits whose patient never joined by the start plus the grace (staff)",
        dependencies={"position": reads(VideoProjection.name)},
        **documented("listVideoNoShowCandidates", *QUERY, *GUARDED),
    )
    def no_show_candidates(
        self,
        video_queries: Injected[VideoQueries | None],
        scheduling: Injected[Scheduling],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
    ) -> NoShowCandidates:
        if actor.role is not Role.STAFF:
            raise ForbiddenError("this list is for staff")
        if video_queries is None:
            return NoShowCandidates(appointment_ids=[])
        grace = scheduling.policies.no_show.grace
        found = video_queries.no_show_candidates(clock.now(), grace, 200)
        return NoShowCandidates(appointment_ids=found)
