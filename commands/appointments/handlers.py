"""Appointment capability: hold, book, confirm, check in, start, complete, cancel, reschedule,
no-show and its reversal. Each saves every aggregate it touched in one atomic write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID, uuid4

from commands.access import patient_for, require_acting, require_role
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    ExpireHold,
    HoldAppointment,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
    StartAppointment,
)
from commands.context import CommandContext
from commands.payments.fees import booking_fees, charge, no_show_fee, waive_reverted_no_show
from commands.series.messages import BookSeries
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.agenda import PatientAgenda
from domain.appointment import Appointment
from domain.errors import StaleVersionError, ValidationError
from domain.fees import FeeKind, schedule_id
from domain.follow_up import FollowUp
from domain.patient import Patient
from domain.policies import check_booking_window
from domain.slot import Slot
from domain.timerange import TimeRange

CARE_TEAM = (Role.PROVIDER, Role.STAFF)


@dataclass(frozen=True)
class Booking:
    """What a new appointment is for, when no booking command says it (a follow-up)."""

    appointment_type: str
    reason: str
    symptoms: tuple[str, ...] = ()


SELF_OR_STAFF = (Role.PATIENT, Role.STAFF)
MAX_HOLD_MINUTES = 60


class AppointmentCommands(SlotwiseApplication):
    def _enter_agenda(
        self,
        ws: Workspace,
        appointment_id: UUID,
        patient_id: UUID,
        time: TimeRange,
        now: datetime,
        hold_until: datetime | None,
        meta: EventMeta,
    ) -> None:
        for day in time.utc_days():
            agenda = ws.get_or_create(
                PatientAgenda,
                PatientAgenda.create_id(patient_id, day),
                partial(PatientAgenda, patient_id=patient_id, day=day, meta=meta),
            )
            agenda.enter(appointment_id, time, now, hold_until, meta)

    def _agendas_of(self, ws: Workspace, appointment: Appointment) -> list[PatientAgenda]:
        time = TimeRange(appointment.start, appointment.end)
        return [
            ws.get(PatientAgenda, PatientAgenda.create_id(appointment.patient_id, day), "agenda")
            for day in time.utc_days()
        ]

    def _new_appointment(
        self,
        ws: Workspace,
        actor: Actor,
        cmd: HoldAppointment | BookAppointment,
        slot_id: UUID,
        hold_for: timedelta | None,
        meta: EventMeta,
        now: datetime,
    ) -> Appointment:
        """A new appointment on a seat of `slot_id`, held for `hold_for` or booked outright."""
        patient = patient_for(actor, cmd.patient_id)
        ws.get(Patient, patient, "patient").require_not_erased()
        overbook = isinstance(cmd, BookAppointment) and cmd.overbook
        if overbook:
            require_role(actor, Role.STAFF)
        slot = ws.get(Slot, slot_id, "slot")
        if actor.role is Role.PATIENT:
            check_booking_window(slot.start, now, self.policies.booking)
        hold_until = now + hold_for if hold_for is not None else None
        return self._seat(ws, slot, uuid4(), patient, cmd, hold_until, overbook, meta, now)

    def _seat(
        self,
        ws: Workspace,
        slot: Slot,
        appointment_id: UUID,
        patient: UUID,
        booking: HoldAppointment | BookAppointment | BookSeries | Booking,
        hold_until: datetime | None,
        overbook: bool,
        meta: EventMeta,
        now: datetime,
    ) -> Appointment:
        """A new appointment of `patient` on a seat of `slot`, entered in their agenda."""
        ws.read_ahead(
            [
                slot.provider_id,
                schedule_id(slot.provider_id),
                *(PatientAgenda.create_id(patient, day) for day in slot.time.utc_days()),
            ]
        )
        slot.take_seat(
            appointment_id,
            booking.appointment_type,
            now,
            hold_until=hold_until,
            may_overbook=overbook,
            meta=meta,
        )
        appointment = Appointment.schedule(
            appointment_id=appointment_id,
            patient_id=patient,
            provider_id=slot.provider_id,
            slot_id=slot.id,
            start=slot.start,
            end=slot.end,
            appointment_type=booking.appointment_type,
            reason=booking.reason,
            symptoms=list(booking.symptoms),
            hold_expires_at=hold_until,
            overbooked=slot.allocations[appointment_id].overbooked,
            meta=meta,
            **booking_fees(ws, slot.provider_id, booking.appointment_type).as_event(),
        )
        self._enter_agenda(ws, appointment_id, patient, slot.time, now, hold_until, meta)
        return ws.add(appointment)

    @use_case
    def hold(
        self, cmd: HoldAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        hold_for = self.policies.hold
        if cmd.hold_minutes is not None:
            if not 1 <= cmd.hold_minutes <= MAX_HOLD_MINUTES:
                raise ValidationError(f"hold_minutes must be between 1 and {MAX_HOLD_MINUTES}")
            hold_for = timedelta(minutes=cmd.hold_minutes)
        ws = Workspace(self)
        appointment = self._new_appointment(ws, ctx.actor, cmd, cmd.slot_id, hold_for, meta, now)
        return Outcome(appointment.id, ws.touched(), {"slot_id": cmd.slot_id})

    @use_case
    def book(
        self, cmd: BookAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        if cmd.appointment_id is not None:
            if cmd.slot_id is not None or cmd.patient_id is not None:
                raise ValidationError("to book a hold, send only its appointment_id")
            appointment = ws.get(Appointment, cmd.appointment_id, "appointment")
            require_acting(ctx.actor, appointment, Role.PATIENT, Role.STAFF)
            _require_version(ctx, appointment)
            appointment.book_from_hold(now, meta)
            ws.get(Slot, appointment.slot_id, "slot").convert_hold(appointment.id, now, meta)
            for agenda in self._agendas_of(ws, appointment):
                agenda.confirm(appointment.id, meta)
        elif cmd.slot_id is not None:
            appointment = self._new_appointment(ws, ctx.actor, cmd, cmd.slot_id, None, meta, now)
        else:
            raise ValidationError("send a slot_id to book, or the appointment_id of a hold")
        return Outcome(appointment.id, ws.touched(), {"slot_id": appointment.slot_id})

    def _lifecycle(
        self, appointment_id: UUID, ctx: CommandContext, *roles: Role
    ) -> tuple[Workspace, Appointment]:
        """Load the appointment, check the actor may act on it in one of `roles`, and that it
        is still at the version the caller expects (If-Match)."""
        ws = Workspace(self)
        appointment = ws.get(Appointment, appointment_id, "appointment")
        require_acting(ctx.actor, appointment, *roles)
        _require_version(ctx, appointment)
        return ws, appointment

    @use_case
    def confirm(
        self, cmd: ConfirmAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, *SELF_OR_STAFF)
        appointment.confirm(meta)
        return Outcome(appointment.id, ws.touched())

    @use_case
    def check_in(
        self, cmd: CheckIn, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, *SELF_OR_STAFF)
        appointment.check_in(now, self.policies.check_in, meta)
        return Outcome(appointment.id, ws.touched())

    @use_case
    def start(
        self, cmd: StartAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, *CARE_TEAM)
        appointment.begin(now, meta)
        return Outcome(appointment.id, ws.touched())

    @use_case
    def complete(
        self, cmd: CompleteAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, *CARE_TEAM)
        wanted = cmd.follow_up_requested or cmd.follow_up is not None
        appointment.complete(now, cmd.notes, cmd.private_notes, cmd.vitals, wanted, meta)
        ids: dict[str, UUID] = {}
        if cmd.follow_up is not None:
            follow_up = FollowUp.request(
                visit_id=appointment.id,
                patient_id=appointment.patient_id,
                provider_id=appointment.provider_id,
                completed_at=now,
                appointment_type=cmd.follow_up.appointment_type,
                interval_days=cmd.follow_up.interval_days,
                notes=cmd.follow_up.notes,
                meta=meta,
            )
            ids["follow_up_id"] = ws.add(follow_up).id
        return Outcome(appointment.id, ws.touched(), ids)

    @use_case
    def cancel(
        self, cmd: CancelAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, Role.PATIENT, *CARE_TEAM)
        if cmd.fee is not None:
            require_role(ctx.actor, Role.STAFF)
            if cmd.currency is None:
                raise ValidationError("a cancellation fee needs its currency")
        appointment.cancel(now, cmd.reason, self.policies.cancellation, cmd.fee, cmd.currency, meta)
        charge(ws, appointment, FeeKind.LATE_CANCELLATION, appointment.cancellation_fee, meta, now)
        self._release(ws, appointment, "appointment cancelled", meta)
        return Outcome(appointment.id, ws.touched())

    def _release(
        self, ws: Workspace, appointment: Appointment, reason: str, meta: EventMeta
    ) -> None:
        ws.get(Slot, appointment.slot_id, "slot").release_seat(appointment.id, reason, meta)
        for agenda in self._agendas_of(ws, appointment):
            agenda.withdraw(appointment.id, meta)

    @use_case
    def expire_hold(
        self, cmd: ExpireHold, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, Role.STAFF, Role.SYSTEM)
        appointment.expire_hold(now, meta)
        self._release(ws, appointment, "hold expired", meta)
        return Outcome(appointment.id, ws.touched())

    @use_case
    def reschedule(
        self, cmd: RescheduleAppointment, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, Role.PATIENT, Role.STAFF)
        new_slot = ws.get(Slot, cmd.new_slot_id, "slot")
        if new_slot.provider_id != appointment.provider_id:
            # Only staff move a visit to another provider (the patient asks them to).
            require_role(ctx.actor, Role.STAFF)
        if ctx.actor.role is Role.PATIENT:
            check_booking_window(new_slot.start, now, self.policies.booking)
        self._move(ws, appointment, new_slot, cmd.reason, meta, now)
        return Outcome(appointment.id, ws.touched(), {"slot_id": new_slot.id})

    def _move(
        self,
        ws: Workspace,
        appointment: Appointment,
        new_slot: Slot,
        reason: str,
        meta: EventMeta,
        now: datetime,
    ) -> None:
        """Move `appointment` to a seat of `new_slot` (access and window already checked)."""
        # The new seat is taken before the old one is released, in the same atomic save.
        new_slot.take_seat(
            appointment.id,
            appointment.appointment_type,
            now,
            hold_until=None,
            may_overbook=False,
            meta=meta,
        )
        for agenda in self._agendas_of(ws, appointment):
            agenda.withdraw(appointment.id, meta)
        old_slot = ws.get(Slot, appointment.slot_id, "slot")
        appointment.reschedule(
            new_slot.id,
            new_slot.start,
            new_slot.end,
            reason,
            meta,
            provider_id=new_slot.provider_id,
            overbooked=new_slot.allocations[appointment.id].overbooked,
        )
        old_slot.release_seat(appointment.id, "appointment rescheduled", meta)
        self._enter_agenda(
            ws, appointment.id, appointment.patient_id, new_slot.time, now, None, meta
        )

    @use_case
    def mark_no_show(
        self, cmd: MarkNoShow, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, *CARE_TEAM)
        appointment.mark_no_show(now, self.policies.no_show, meta)
        charge(ws, appointment, FeeKind.NO_SHOW, no_show_fee(appointment), meta, now)
        return Outcome(appointment.id, ws.touched())

    @use_case
    def revert_no_show(
        self, cmd: RevertNoShow, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws, appointment = self._lifecycle(cmd.appointment_id, ctx, Role.STAFF)
        appointment.revert_no_show(cmd.reason, meta)
        waive_reverted_no_show(ws, appointment, meta, now)
        return Outcome(appointment.id, ws.touched())


def _require_version(ctx: CommandContext, appointment: Appointment) -> None:
    """If-Match: act only on the version the caller based the change on."""
    if ctx.expected_version is not None and ctx.expected_version != appointment.version:
        msg = f"the appointment is at version {appointment.version}, not {ctx.expected_version}"
        raise StaleVersionError(msg)
