"""Telehealth capability: the room policy's records (open, move, close), participant events from
verified webhooks, guests, recording consent and recording; and who may join, until when.

Nothing here calls the video provider: the policy worker does, then records what happened
here; the API mints a join token with the grant `join_grant` decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from commands.access import require_acting, require_role, require_visible
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.telehealth.messages import (
    CloseVideoRoom,
    InviteVideoGuest,
    MoveVideoRoom,
    OpenVideoRoom,
    RecordRecordingConsent,
    RecordVideoEvent,
    StartRecording,
    StopRecording,
)
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.appointment import ACTIVE, Appointment, Status
from domain.errors import InvalidTransitionError, NotFoundError
from domain.personal import personal
from domain.video_room import VideoRoom
from domain.video_visit import (
    GuestRole,
    RoomNotOpenError,
    identity_of,
    join_window,
    opens_at,
    room_id,
)

POLICY = (Role.SYSTEM,)
CONSENT_RECORDERS = (Role.PATIENT, Role.PROVIDER, Role.STAFF)
ENDED = frozenset({Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW})


@dataclass(frozen=True)
class Grant:
    """Who joins which room until when; `host` for the visit's provider."""

    room: str
    identity: str
    host: bool
    expires_at: datetime


class TelehealthCommands(SlotwiseApplication):
    def _video_visit(self, ws: Workspace, appointment_id: UUID, actor: Actor) -> Appointment:
        appointment = ws.get(Appointment, appointment_id, "appointment")
        require_visible(actor, appointment)
        if appointment.appointment_type != "video":
            raise NotFoundError(f"appointment {appointment_id} has no video room")
        return appointment

    def _room(self, ws: Workspace, appointment_id: UUID) -> VideoRoom:
        room = self.load_or_none(VideoRoom, room_id(appointment_id))
        if room is None:
            raise RoomNotOpenError("the visit's room is not open yet")
        return ws.add(room)

    @use_case
    def open_video_room(
        self, cmd: OpenVideoRoom, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        appointment = self._video_visit(ws, cmd.appointment_id, ctx.actor)
        if appointment.status not in ACTIVE:
            raise InvalidTransitionError(f"the appointment is {appointment.status.value}")
        room = self.load_or_none(VideoRoom, room_id(appointment.id))
        if room is None:
            room = VideoRoom.open(
                appointment.id,
                appointment.patient_id,
                appointment.provider_id,
                cmd.provider,
                cmd.provider_room_id,
                appointment.start,
                appointment.end,
                now,
                meta,
            )
        else:
            room.reopen(cmd.provider_room_id, now, meta)
            room.move(appointment.start, appointment.end, meta)
        ws.add(room)
        return Outcome(room.id, ws.touched())

    @use_case
    def move_video_room(
        self, cmd: MoveVideoRoom, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        appointment = self._video_visit(ws, cmd.appointment_id, ctx.actor)
        room = self._room(ws, appointment.id)
        room.move(appointment.start, appointment.end, meta)
        return Outcome(room.id, ws.touched())

    @use_case
    def close_video_room(
        self, cmd: CloseVideoRoom, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        room = self._room(ws, cmd.appointment_id)
        room.close(cmd.reason, now, meta)
        return Outcome(room.id, ws.touched())

    @use_case
    def record_video_event(
        self, cmd: RecordVideoEvent, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        room = self._room(ws, cmd.appointment_id)
        if cmd.kind == "room_finished":
            room.close("ended", cmd.at, meta)
        else:
            room.participant_event(
                cmd.event_id, cmd.kind, cmd.identity, cmd.at, cmd.disconnect_reason, meta
            )
        return Outcome(room.id, ws.touched())

    @use_case
    def invite_video_guest(
        self, cmd: InviteVideoGuest, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        appointment = self._video_visit(ws, cmd.appointment_id, ctx.actor)
        require_role(ctx.actor, Role.STAFF)
        room = self._room(ws, appointment.id)
        guest_id = uuid4()
        room.invite(
            guest_id, GuestRole(cmd.role), personal(appointment.patient_id, cmd.guest_name), meta
        )
        return Outcome(room.id, ws.touched(), {"guest_id": guest_id})

    def _visit_room(
        self, appointment_id: UUID, ctx: CommandContext, *roles: Role
    ) -> tuple[Workspace, VideoRoom]:
        """The visit's open-or-closed room, once the actor may act on the visit in `roles`."""
        ws = Workspace(self)
        appointment = self._video_visit(ws, appointment_id, ctx.actor)
        require_acting(ctx.actor, appointment, *roles)
        return ws, self._room(ws, appointment.id)

    @use_case
    def record_recording_consent(
        self, cmd: RecordRecordingConsent, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, room = self._visit_room(cmd.appointment_id, ctx, *CONSENT_RECORDERS)
        room.record_consent(now, meta)
        return Outcome(room.id, ws.touched())

    @use_case
    def start_recording(
        self, cmd: StartRecording, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, room = self._visit_room(cmd.appointment_id, ctx, Role.PROVIDER)
        room.start_recording(now, meta)
        return Outcome(room.id, ws.touched())

    @use_case
    def stop_recording(
        self, cmd: StopRecording, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, room = self._visit_room(cmd.appointment_id, ctx, Role.PROVIDER)
        room.stop_recording(now, meta)
        return Outcome(room.id, ws.touched())

    def join_grant(self, appointment_id: UUID, actor: Actor, guest_id: UUID | None) -> Grant:
        """Who `actor` joins the visit's room as, and until when: the patient and the provider
        of that appointment for themselves, staff on behalf of a guest they invited; anyone
        else is told the appointment does not exist. Only inside the visit's window, never
        for an ended visit, and only once the room is open."""
        now = self.clock.now()
        ws = Workspace(self)
        appointment = self._video_visit(ws, appointment_id, actor)
        if guest_id is not None:
            require_role(actor, Role.STAFF)
        elif actor.role not in (Role.PATIENT, Role.PROVIDER):
            raise NotFoundError(f"appointment {appointment_id} not found")
        if appointment.status in ENDED or appointment.status is Status.HELD:
            raise InvalidTransitionError(f"the visit is {appointment.status.value}")
        policy = self.policies.video
        expires_at = join_window(
            appointment.start, appointment.end, self.policies.check_in.before, policy, now
        )
        room = self.load_or_none(VideoRoom, room_id(appointment.id))
        if room is None or not room.is_open:
            wait = int((opens_at(appointment.start, policy) - now).total_seconds())
            raise RoomNotOpenError("the visit's room is not open yet", retry_after=max(wait, 1))
        if guest_id is not None:
            guest = room.guest(guest_id)
            identity = identity_of(guest.role, guest_id)
        else:
            identity = identity_of(actor.role, actor.subject)
        host = guest_id is None and actor.role is Role.PROVIDER
        return Grant(room.name, identity, host, expires_at)
