"""What an offer does to the seat and the appointments: book the hold, move a later
appointment into the held seat, or give the hold back."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commands.appointments.handlers import AppointmentCommands
from commands.workspace import Workspace
from domain.actor import EventMeta
from domain.appointment import Appointment, Status
from domain.errors import HoldExpiredError, NotFoundError, ValidationError
from domain.slot import Slot
from domain.waitlist import Offer


class WaitlistMoves(AppointmentCommands):
    def _book_offer(self, ws: Workspace, offer: Offer, now: datetime, meta: EventMeta) -> None:
        hold = ws.get(Appointment, offer.appointment_id, "appointment")
        hold.book_from_hold(now, meta)
        ws.get(Slot, offer.slot_id, "slot").convert_hold(hold.id, now, meta)
        for agenda in self._agendas_of(ws, hold):
            agenda.confirm(hold.id, meta)

    def _move_into_offer(
        self,
        ws: Workspace,
        patient_id: UUID,
        moving: UUID,
        offer: Offer,
        now: datetime,
        meta: EventMeta,
    ) -> datetime:
        """Reschedule the patient's `moving` appointment into the held seat: the hold hands
        its seat over to it and the old seat is released, all in the caller's one save.
        Returns when the appointment was before the move."""
        later = ws.get(Appointment, moving, "appointment")
        if later.patient_id != patient_id:
            raise NotFoundError(f"appointment {moving} not found")
        hold = ws.get(Appointment, offer.appointment_id, "appointment")
        if hold.status is not Status.HELD or hold.is_hold_expired(now):
            raise HoldExpiredError("the offer has expired")
        if later.provider_id != hold.provider_id:
            raise ValidationError("a reschedule stays with the same provider: accept as a booking")
        slot = ws.get(Slot, offer.slot_id, "slot")
        old_slot = ws.get(Slot, later.slot_id, "slot")
        moved_from = later.start
        for agenda in self._agendas_of(ws, later):
            agenda.withdraw(later.id, meta)
        for agenda in self._agendas_of(ws, hold):
            agenda.withdraw(hold.id, meta)
        hold.cancel(now, "", self.policies.cancellation, None, None, meta)
        later.reschedule(slot.id, slot.start, slot.end, "", meta)
        slot.release_seat(hold.id, "waitlist offer taken as a reschedule", meta)
        slot.take_seat(
            later.id, later.appointment_type, now, hold_until=None, may_overbook=False, meta=meta
        )
        old_slot.release_seat(later.id, "appointment rescheduled", meta)
        self._enter_agenda(ws, later.id, patient_id, slot.time, now, None, meta)
        return moved_from

    def _drop_hold(
        self, ws: Workspace, offer: Offer, reason: str, now: datetime, meta: EventMeta
    ) -> None:
        """Give the offer's hold back (unless the hold sweeper already ended it): the seat and
        the agenda days are released, each at most once."""
        hold = ws.get(Appointment, offer.appointment_id, "appointment")
        if hold.status is Status.HELD:
            if hold.is_hold_expired(now):
                hold.expire_hold(now, meta)
            else:
                hold.cancel(now, "", self.policies.cancellation, None, None, meta)
        if hold.status is Status.CANCELLED:
            ws.get(Slot, offer.slot_id, "slot").release_seat(hold.id, reason, meta)
            for agenda in self._agendas_of(ws, hold):
                agenda.withdraw(hold.id, meta)
