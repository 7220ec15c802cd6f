"""Video visits (issue 13), the reads: a visit's room (who joined when, time in room, the
patient's wait, the visit's duration, consent and, for the care team, recordings) and staff's
no-show candidates. Both return patient data, so each answer writes an access record."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from api.deps import Injected, MinPosition, reads
from api.openapi import FOUND_OR_NOT, GUARDED, QUERY, documented
from api.read_audit import audits_reads
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.access import may_see
from domain.actor import Actor, Role
from domain.errors import ForbiddenError, NotFoundError
from projections.audit.access import Access
from projections.video import VideoProjection
from projections.video_queries import VideoQueries, VideoVisit


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
    patient_id: UUID
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
        patient_id=visit.patient_id,
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


class VideoRecordController(Controller):
    path = "/v1/appointments/{appointment_id:uuid}/video"
    tags = ["video"]

    @audits_reads("Appointment", action="read")
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
        access: Injected[Access],
        appointment_id: FromPath[UUID],
    ) -> VideoView:
        visit = video_queries.visit(appointment_id) if video_queries else None
        if visit is not None:  # a refusal is recorded with whose visit it was
            access.saw(patients=[visit.patient_id], resources=[appointment_id])
        if visit is None or not may_see(actor, visit):
            raise NotFoundError(f"appointment {appointment_id} has no video room")
        return _view(visit, actor)


class NoShowCandidate(msgspec.Struct, frozen=True, kw_only=True):
    appointment_id: UUID
    patient_id: UUID


class NoShowCandidates(msgspec.Struct, frozen=True, kw_only=True):
    """Video visits past the start plus the grace whose patient never joined: for staff to
    decide on (a no-show is never recorded automatically). `appointment_ids` lists the same
    visits as `candidates`."""

    appointment_ids: list[UUID]
    candidates: list[NoShowCandidate]


class VideoNoShowController(Controller):
    path = "/v1/video"
    tags = ["video"]

    @audits_reads("Appointment")
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
        access: Injected[Access],
    ) -> NoShowCandidates:
        if actor.role is not Role.STAFF:
            raise ForbiddenError("this list is for staff")
        grace = scheduling.policies.no_show.grace
        found = video_queries.no_show_candidates(clock.now(), grace, 200) if video_queries else []
        access.saw(
            patients=[c.patient_id for c in found], resources=[c.appointment_id for c in found]
        )
        return NoShowCandidates(
            appointment_ids=[c.appointment_id for c in found],
            candidates=[
                NoShowCandidate(appointment_id=c.appointment_id, patient_id=c.patient_id)
                for c in found
            ],
        )
