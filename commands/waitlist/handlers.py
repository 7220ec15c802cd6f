"""Waitlist capability (issue 11): join, leave, priority; offers under a hold on the seat,
accepted (a booking, or a reschedule of a later appointment), declined or lapsed; and the
offer policy's records (closing entries, rebooking displaced patients).

Every offer, accept, decline and lapse writes the entry, the held appointment, the slot and
the patient's agenda days in one atomic save, so a seat is never offered, booked or released
twice, and no hold outlives its offer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from commands.access import patient_for, require_role
from commands.application import Outcome, use_case
from commands.appointments.handlers import AppointmentCommands
from commands.context import CommandContext
from commands.waitlist.messages import (
    AcceptWaitlistOffer,
    CloseWaitlistEntry,
    DeclineWaitlistOffer,
    ExpireWaitlistOffer,
    JoinWaitlist,
    LeaveWaitlist,
    OfferWaitlistSeat,
    RebookDisplaced,
    SetWaitlistPriority,
    WithdrawWaitlistOffer,
)
from commands.waitlist.moves import WaitlistMoves
from commands.waitlist.timing import quiet_hours_of
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.appointment import ACTIVE, RESCHEDULABLE, Appointment
from domain.errors import (
    DomainError,
    ForbiddenError,
    NotFoundError,
    SlotUnavailableError,
    ValidationError,
)
from domain.patient import Patient
from domain.provider import Provider
from domain.slot import Slot, SlotStatus
from domain.waitlist import Offer, WaitlistEntry
from domain.waitlist_rules import (
    DEFAULT_TIER,
    TOP_TIER,
    Area,
    Seat,
    Want,
    Window,
    offer_expiry,
)
from domain.zone import check_zone

POLICY = (Role.SYSTEM,)


def displaced_entry_id(appointment_id: UUID, cause: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"slotwise:waitlist:{cause}:{appointment_id}")


def require_entry(actor: Actor, entry: WaitlistEntry) -> None:
    """A patient acts on their own entries, staff and the policy on any; anyone else is told
    the entry does not exist."""
    if actor.role in (Role.STAFF, Role.SYSTEM):
        return
    if actor.role is Role.PATIENT and actor.subject == entry.patient_id:
        return
    raise NotFoundError(f"waitlist entry {entry.id} not found")


def _accepted_already(entry: WaitlistEntry, offer_id: UUID) -> Outcome | None:
    """The same accept again: nothing more to do, the same answer."""
    if entry.accepted_offer_id != offer_id or entry.accepted_appointment_id is None:
        return None
    return Outcome(entry.id, [], {"appointment_id": entry.accepted_appointment_id})


def seat_of(slot: Slot, provider: Provider) -> Seat:
    profile = provider.profile
    lat, lon = profile.get("latitude"), profile.get("longitude")
    return Seat(
        slot_id=slot.id,
        provider_id=slot.provider_id,
        specializations=tuple(profile.get("specializations") or ()),
        start=slot.start,
        end=slot.end,
        appointment_types=tuple(slot.appointment_types),
        provider_latitude=None if lat is None else float(lat),
        provider_longitude=None if lon is None else float(lon),
    )


class WaitlistCommands(WaitlistMoves, AppointmentCommands):
    def _entry(self, ws: Workspace, entry_id: UUID, actor: Actor) -> WaitlistEntry:
        entry = ws.get(WaitlistEntry, entry_id, "waitlist entry")
        require_entry(actor, entry)
        return entry

    @use_case
    def join_waitlist(
        self, cmd: JoinWaitlist, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        patient_id = patient_for(ctx.actor, cmd.patient_id)
        if cmd.tier is not None and ctx.actor.role is not Role.STAFF:
            raise ForbiddenError("only staff set a waitlist priority tier")
        ws = Workspace(self)
        patient = ws.get(Patient, patient_id, "patient")
        patient.require_not_erased()
        zone = check_zone(cmd.time_zone or patient.details.get("time_zone"))
        before = None
        if cmd.appointment_id is not None:
            later = ws.get(Appointment, cmd.appointment_id, "appointment")
            if later.patient_id != patient_id:
                raise NotFoundError(f"appointment {cmd.appointment_id} not found")
            if later.status not in RESCHEDULABLE:
                raise ValidationError("only a booked or confirmed appointment can move earlier")
            before = later.start
        if cmd.provider_id is not None:
            ws.get(Provider, cmd.provider_id, "provider")
        area = cmd.area
        want = Want(
            provider_id=cmd.provider_id,
            specialty=cmd.specialty,
            appointment_type=cmd.appointment_type,
            time_zone=zone,
            earliest=cmd.earliest or now.date(),
            deadline=cmd.deadline,
            windows=tuple(Window(w.start, w.end, tuple(sorted(set(w.days)))) for w in cmd.windows),
            area=None if area is None else Area(area.latitude, area.longitude, area.radius_km),
            before=before,
        )
        entry = WaitlistEntry.join(
            uuid4(),
            patient_id,
            want,
            tier=DEFAULT_TIER if cmd.tier is None else cmd.tier,
            joined_at=now,
            moves_appointment_id=cmd.appointment_id,
            origin=ctx.actor.role.value,
            meta=meta,
        )
        ws.add(entry)
        return Outcome(entry.id, ws.touched())

    @use_case
    def leave_waitlist(
        self, cmd: LeaveWaitlist, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        entry = self._entry(ws, cmd.entry_id, ctx.actor)
        require_role(ctx.actor, Role.PATIENT, Role.STAFF)
        offer = entry.cancel("left", now, meta)
        if offer is not None:
            self._drop_hold(ws, offer, "waitlist entry left", now, meta)
        return Outcome(entry.id, ws.touched())

    @use_case
    def set_waitlist_priority(
        self, cmd: SetWaitlistPriority, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        entry = self._entry(ws, cmd.entry_id, ctx.actor)
        require_role(ctx.actor, Role.STAFF)
        entry.change_tier(cmd.tier, meta)
        return Outcome(entry.id, ws.touched())

    @use_case
    def offer_waitlist_seat(
        self, cmd: OfferWaitlistSeat, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        entry = ws.get(WaitlistEntry, cmd.entry_id, "waitlist entry")
        slot = ws.get(Slot, cmd.slot_id, "slot")
        provider = ws.get(Provider, slot.provider_id, "provider")
        timing = self.policies.waitlist
        entry.check_offer(seat_of(slot, provider), now, timing.min_lead)
        patient = ws.get(Patient, entry.patient_id, "patient")
        patient.require_not_erased()
        timing = replace(timing, quiet_hours=quiet_hours_of(self, patient, entry.time_zone))
        expires = offer_expiry(entry.patient_id, slot.start, now, timing)
        hold_id = uuid4()
        slot.take_seat(
            hold_id, entry.appointment_type, now, hold_until=expires, may_overbook=False, meta=meta
        )
        hold = Appointment.schedule(
            appointment_id=hold_id,
            reason="",
            symptoms=[],
            patient_id=entry.patient_id,
            provider_id=slot.provider_id,
            slot_id=slot.id,
            start=slot.start,
            end=slot.end,
            appointment_type=entry.appointment_type,
            hold_expires_at=expires,
            overbooked=False,
            meta=meta,
        )
        self._enter_agenda(ws, hold_id, entry.patient_id, slot.time, now, expires, meta)
        ws.add(hold)
        offer = Offer(uuid4(), slot.id, slot.provider_id, hold_id, slot.start, now, expires)
        entry.make_offer(offer, dict(cmd.rank), meta)
        ids = {"offer_id": offer.offer_id, "appointment_id": hold_id, "slot_id": slot.id}
        return Outcome(entry.id, ws.touched(), ids)

    @use_case
    def accept_waitlist_offer(
        self, cmd: AcceptWaitlistOffer, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        entry = self._entry(ws, cmd.entry_id, ctx.actor)
        require_role(ctx.actor, Role.PATIENT, Role.STAFF)
        repeat = _accepted_already(entry, cmd.offer_id)
        if repeat is not None:
            return repeat
        try:
            return self._accept(ws, entry, cmd, now, meta)
        except DomainError:
            # The same accept, committed between our read of the entry and of the hold,
            # refuses us on the hold: answer as the repeat it is.
            fresh = self.load(WaitlistEntry, cmd.entry_id, "waitlist entry")
            repeat = _accepted_already(fresh, cmd.offer_id)
            if repeat is None:
                raise
            return repeat

    def _accept(
        self,
        ws: Workspace,
        entry: WaitlistEntry,
        cmd: AcceptWaitlistOffer,
        now: datetime,
        meta: EventMeta,
    ) -> Outcome:
        offer = entry.open_offer(cmd.offer_id)
        slot = ws.get(Slot, offer.slot_id, "slot")
        if slot.status is not SlotStatus.OPEN:
            # Blocked (or cancelled) since the offer: the policy withdraws it; never book it.
            raise SlotUnavailableError(f"the offered seat's slot is {slot.status.value}")
        moving = cmd.appointment_id or entry.moves_appointment_id
        moved: tuple[UUID, datetime] | None = None
        if moving is None:
            self._book_offer(ws, offer, now, meta)
        else:
            moved = (moving, self._move_into_offer(ws, entry.patient_id, moving, offer, now, meta))
        entry.accept(cmd.offer_id, now, moved, meta)
        ids = {"appointment_id": moving or offer.appointment_id, "slot_id": offer.slot_id}
        return Outcome(entry.id, ws.touched(), ids)

    @use_case
    def decline_waitlist_offer(
        self, cmd: DeclineWaitlistOffer, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        entry = self._entry(ws, cmd.entry_id, ctx.actor)
        require_role(ctx.actor, Role.PATIENT, Role.STAFF)
        offer = entry.decline(cmd.offer_id, now, self.policies.waitlist.cooldown, meta)
        self._drop_hold(ws, offer, "waitlist offer declined", now, meta)
        return Outcome(entry.id, ws.touched())

    @use_case
    def expire_waitlist_offer(
        self, cmd: ExpireWaitlistOffer, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY, Role.STAFF)
        ws = Workspace(self)
        entry = ws.get(WaitlistEntry, cmd.entry_id, "waitlist entry")
        self._drop_hold(
            ws, entry.lapse(cmd.offer_id, now, meta), "waitlist offer expired", now, meta
        )
        return Outcome(entry.id, ws.touched())

    @use_case
    def withdraw_waitlist_offer(
        self, cmd: WithdrawWaitlistOffer, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        entry = ws.get(WaitlistEntry, cmd.entry_id, "waitlist entry")
        withdrawn = entry.withdraw(cmd.offer_id, cmd.reason, now, meta)
        self._drop_hold(ws, withdrawn, "waitlist offer withdrawn", now, meta)
        return Outcome(entry.id, ws.touched())

    @use_case
    def close_waitlist_entry(
        self, cmd: CloseWaitlistEntry, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        entry = ws.get(WaitlistEntry, cmd.entry_id, "waitlist entry")
        if cmd.why == "deadline":
            entry.expire(now, meta)
        elif cmd.why == "fulfilled":
            if cmd.appointment_id is None:
                raise ValidationError("name the appointment that took place")
            entry.fulfil(cmd.appointment_id, meta)
        else:
            offer = entry.cancel(cmd.why, now, meta)
            if offer is not None:
                self._drop_hold(ws, offer, "waitlist entry closed", now, meta)
        return Outcome(entry.id, ws.touched())

    @use_case
    def rebook_displaced(
        self, cmd: RebookDisplaced, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, *POLICY)
        ws = Workspace(self)
        entry_id = displaced_entry_id(cmd.appointment_id, cmd.cause)
        if self.exists(entry_id):
            return Outcome(entry_id, [])
        displaced = ws.get(Appointment, cmd.appointment_id, "appointment")
        patient = ws.get(Patient, displaced.patient_id, "patient")
        patient.require_not_erased()
        # A blocked slot leaves the appointment booked: an accepted offer moves it. A
        # cancelled one is gone: an accepted offer books anew.
        moves = displaced.id if cmd.cause == "blocked" and displaced.status in ACTIVE else None
        want = Want(
            provider_id=displaced.provider_id,
            specialty=None,
            appointment_type=displaced.appointment_type,
            time_zone=check_zone(patient.details.get("time_zone") or "UTC"),
            earliest=now.date(),
            deadline=None,
        )
        entry = WaitlistEntry.join(
            entry_id,
            displaced.patient_id,
            want,
            tier=TOP_TIER,
            joined_at=now,
            moves_appointment_id=moves,
            origin=cmd.cause,
            meta=meta,
        )
        ws.add(entry)
        return Outcome(entry.id, ws.touched())
