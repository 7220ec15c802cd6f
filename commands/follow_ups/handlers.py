"""Follow-up requests: booking one (the new appointment is linked to the visit it follows) and
dismissing one. Requests are made by completing a visit (commands/appointments)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from commands.access import require_role, require_visible
from commands.application import Outcome, use_case
from commands.appointments.handlers import AppointmentCommands, Booking
from commands.context import CommandContext
from commands.follow_ups.messages import BookFollowUp, DismissFollowUp
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.follow_up import FollowUp
from domain.patient import Patient
from domain.policies import check_booking_window
from domain.slot import Slot


class FollowUpCommands(AppointmentCommands):
    def _follow_up(self, ws: Workspace, follow_up_id: UUID, actor: Actor) -> FollowUp:
        """The request, if `actor` may see it (its patient, its provider, staff): else 404."""
        follow_up = ws.get(FollowUp, follow_up_id, "follow-up request")
        require_visible(actor, follow_up, "follow-up request")
        return follow_up

    @use_case
    def book_follow_up(
        self, cmd: BookFollowUp, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        follow_up = self._follow_up(ws, cmd.follow_up_id, ctx.actor)
        require_role(ctx.actor, Role.PATIENT, Role.STAFF)
        ws.get(Patient, follow_up.patient_id, "patient").require_not_erased()
        slot = ws.get(Slot, cmd.slot_id, "slot")
        if slot.provider_id != follow_up.provider_id:
            # The provider who asked for it sees the patient again, unless staff decide otherwise.
            require_role(ctx.actor, Role.STAFF)
        if ctx.actor.role is Role.PATIENT:
            check_booking_window(slot.start, now, self.policies.booking)
        booking = Booking(follow_up.appointment_type, cmd.reason)
        appointment = self._seat(
            ws, slot, uuid4(), follow_up.patient_id, booking, None, False, meta, now
        )
        appointment.link_to_visit(follow_up.visit_id, follow_up.id, meta)
        follow_up.book(appointment.id, meta)
        ids = {"follow_up_id": follow_up.id, "slot_id": slot.id}
        return Outcome(appointment.id, ws.touched(), ids)

    @use_case
    def dismiss_follow_up(
        self, cmd: DismissFollowUp, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        follow_up = self._follow_up(ws, cmd.follow_up_id, ctx.actor)
        require_role(ctx.actor, Role.PROVIDER, Role.STAFF)
        follow_up.dismiss(meta)
        return Outcome(follow_up.id, ws.touched())
