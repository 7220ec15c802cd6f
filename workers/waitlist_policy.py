"""The offer policy (issue 11), `slotwise worker waitlist`. It follows the `waitlist`
projection, whose rows (written with its tracked position, so none is missed) say what changed:

- a seat may have come free (a seat released by a cancellation, a reschedule away, a hold's
  expiry or a declined offer; a slot unblocked; slots created or generated): rank the entries
  that may suit it (tier, joined time, id) and offer it to the first that the entry aggregate
  accepts, under a hold; with more free seats, to the next as well;
- an offer's time ran out: lapse it (the hold is given back, which frees the seat again, and
  so the next entry gets it);
- a patient booked: close their open entries that booking meets ("booked elsewhere"); a visit
  booked from an offer took place: the entry is fulfilled; an entry's deadline passed: expire;
- a slot holding an open offer's seat was blocked: the offer is withdrawn (the entry waits
  again, no cool-down) and its hold given up; accepting it meanwhile is refused (409);
- a slot was blocked or the clinic cancelled: the patient gets a top-tier entry and an offer of
  the nearest free seat with the same provider and type.

Offers are only recorded (events on the entry): telling the patient is a notification policy's
business, which reads the same events. The read model only nominates; every command checks
again, so a stale row costs a refused command, never a wrong offer. Each offer carries an
Idempotency-Key made of the opening and the entry, so a crash between the offer and marking its
opening handled replays the same offer instead of making a second."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import structlog

from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from commands.waitlist.handlers import seat_of
from commands.waitlist.messages import (
    CloseWaitlistEntry,
    ExpireWaitlistOffer,
    OfferWaitlistSeat,
    RebookDisplaced,
    WithdrawWaitlistOffer,
)
from domain.actor import Actor, Role
from domain.appointment import Appointment
from domain.errors import (
    ConcurrencyError,
    ConflictError,
    NotFoundError,
    SlotFullError,
    SlotUnavailableError,
    ValidationError,
)
from domain.provider import Provider
from domain.slot import Slot
from domain.waitlist import WaitlistEntry
from domain.waitlist_rules import unsuitable
from projections.waitlist_work import Booking, Opening, WaitlistWork

log = structlog.stdlib.get_logger("slotwise.waitlist")

POLICY_ACTOR = Actor(UUID("00000000-0000-4000-8000-0000000a1715"), Role.SYSTEM)
CANDIDATES = 20  # entries tried per opening before it is given up
Refused = (ConflictError, NotFoundError, ValidationError)


class OfferPolicy:
    def __init__(self, app: Scheduling, work: WaitlistWork, clock: Clock) -> None:
        self.app = app
        self.work = work
        self.clock = clock

    def tick(self, batch: int = 100) -> int:
        """One pass over everything due; returns how many items it handled (0: none was due)."""
        return (
            self.lapse_offers(batch)
            + self.close_entries(batch)
            + self.rebook_displaced(batch)
            + self.fill_openings(batch)
        )

    def _ctx(self, key: str | None = None) -> CommandContext:
        return CommandContext(POLICY_ACTOR, idempotency_key=key)

    def lapse_offers(self, batch: int) -> int:
        done = 0
        for entry_id, offer_id in self.work.due_offers(self.clock.now(), batch):
            try:
                command = ExpireWaitlistOffer(entry_id=entry_id, offer_id=offer_id)
                self.app.expire_waitlist_offer(command, self._ctx())
            except Refused:
                continue  # answered meanwhile
            log.info("waitlist offer expired", entry_id=str(entry_id), offer_id=str(offer_id))
            done += 1
        return done

    def fill_openings(self, batch: int) -> int:
        done = 0
        for opening in self.work.pending_openings(batch):
            try:
                self._fill(opening)
            except ConcurrencyError:
                continue  # busy slot: the opening stays pending for the next pass
            done += 1
        return done

    def _fill(self, opening: Opening) -> int:
        now = self.clock.now()
        candidates = self.work.candidates(opening, now, CANDIDATES)
        offered = 0
        passed_over: list[dict[str, str]] = []
        outcome = "no_candidate"
        for place, candidate in enumerate(candidates, start=1):
            rank = {
                "tier": candidate.tier,
                "joined_at": candidate.joined_at.isoformat(),
                "entry_id": str(candidate.entry_id),
                "place": place,
                "candidates": len(candidates),
                "passed_over": list(passed_over),
                "opening": opening.id,
                "freed_by": opening.kind,
                "freed_at": opening.freed_at.isoformat(),
                "order": "tier, joined_at, entry_id",
            }
            command = OfferWaitlistSeat(
                entry_id=candidate.entry_id, slot_id=opening.slot_id, rank=rank
            )
            try:
                self.app.offer_waitlist_seat(
                    command, self._ctx(f"waitlist-offer:{opening.id}:{candidate.entry_id}")
                )
            except (SlotFullError, SlotUnavailableError):
                outcome = "offered" if offered else "no_seat"
                break
            except Refused as refused:
                passed_over.append(
                    {"entry_id": str(candidate.entry_id), "why": type(refused).__name__}
                )
                continue
            offered += 1
            outcome = "offered"
            log.info(
                "waitlist seat offered",
                entry_id=str(candidate.entry_id),
                slot_id=str(opening.slot_id),
                place=place,
            )
        self.work.resolve_opening(opening.id, outcome, self.clock.now())
        return offered

    def close_entries(self, batch: int) -> int:
        done = 0
        now = self.clock.now()
        for booking in self.work.pending_bookings(batch):
            self._booked(booking)
            self.work.handled_booking(booking, now)
            done += 1
        for entry_id in self.work.past_deadline(now, batch):
            done += self._close(entry_id, "deadline")
        return done

    def _close(self, entry_id: UUID, why: str, appointment_id: UUID | None = None) -> int:
        command = CloseWaitlistEntry(
            entry_id=entry_id,
            why=why,  # type: ignore[arg-type]
            appointment_id=appointment_id,
        )
        try:
            self.app.close_waitlist_entry(command, self._ctx())
        except Refused:
            return 0
        log.info("waitlist entry closed", entry_id=str(entry_id), why=why)
        return 1

    def _booked(self, booking: Booking) -> int:
        if booking.kind == "completed":
            accepted = self.work.entries_accepted_with(booking.appointment_id)
            return sum(self._close(e, "fulfilled", booking.appointment_id) for e in accepted)
        appointment = self.app.load_or_none(Appointment, booking.appointment_id)
        if appointment is None:
            return 0
        slot = self.app.load(Slot, appointment.slot_id, "slot")
        seat = seat_of(slot, self.app.load(Provider, slot.provider_id, "provider"))
        done = 0
        for entry_id in self.work.open_entries_of(appointment.patient_id):
            entry = self.app.load(WaitlistEntry, entry_id, "waitlist entry")
            if entry.moves_appointment_id == appointment.id or (
                entry.offer is not None and entry.offer.appointment_id == appointment.id
            ):
                continue
            want = replace(entry.want, before=None)
            if unsuitable(want, seat, self.clock.now(), timedelta.min) is None:
                done += self._close(entry_id, "booked_elsewhere")
        return done

    def rebook_displaced(self, batch: int) -> int:
        done = 0
        for appointment_id, cause in self.work.pending_displaced(batch):
            self._rebook(appointment_id, cause)
            self.work.handled_displaced(appointment_id, cause, self.clock.now())
            done += 1
        return done

    def _rebook(self, appointment_id: UUID, cause: str) -> int:
        held = self.work.open_offer_holding(appointment_id)
        if held is not None:
            return self._withdraw(*held)
        command = RebookDisplaced(appointment_id=appointment_id, cause=cause)  # type: ignore[arg-type]
        try:
            entry_id = self.app.rebook_displaced(command, self._ctx()).id
        except Refused:
            return 0  # a hold, an erased patient, or gone
        entry = self.app.load(WaitlistEntry, entry_id, "waitlist entry")
        if entry.offer is not None or entry.accepted_appointment_id is not None:
            return 1
        displaced = self.app.load(Appointment, appointment_id, "appointment")
        now = self.clock.now()
        after = now + self.app.policies.waitlist.min_lead
        slots = self.work.nearest_free_slots(
            displaced.provider_id, displaced.appointment_type, displaced.start, after, CANDIDATES
        )
        for place, slot_id in enumerate(slots, start=1):
            rank = {
                "tier": entry.tier,
                "joined_at": entry.joined_at.isoformat(),
                "entry_id": str(entry_id),
                "displaced_by": cause,
                "nearest_to": displaced.start.isoformat(),
                "place": place,
            }
            offer = OfferWaitlistSeat(entry_id=entry_id, slot_id=slot_id, rank=rank)
            try:
                self.app.offer_waitlist_seat(offer, self._ctx(f"waitlist-rebook:{entry_id}"))
            except Refused:
                continue
            log.info("displaced patient offered a seat", entry_id=str(entry_id))
            return 2
        return 1  # no free seat: the top-tier entry waits for the next one

    def _withdraw(self, entry_id: UUID, offer_id: UUID) -> int:
        """The seat held for an open offer was blocked: take the offer back (the entry waits
        again, without a cool-down) and give the hold up."""
        command = WithdrawWaitlistOffer(entry_id=entry_id, offer_id=offer_id)
        try:
            self.app.withdraw_waitlist_offer(command, self._ctx())
        except Refused:
            return 0  # answered or lapsed meanwhile
        log.info("waitlist offer withdrawn", entry_id=str(entry_id), offer_id=str(offer_id))
        return 1


def run_offer_policy(policy: OfferPolicy, stop: threading.Event, interval: float = 1.0) -> None:
    while not stop.is_set():
        try:
            while policy.tick() and not stop.is_set():
                pass  # more may be due at once: go on until a pass finds nothing
        except Exception:
            # The database is away, or a command failed unexpectedly: nothing was marked
            # handled, so the next pass tries the same work again.
            log.exception("waitlist offer policy failed; retrying", interval_s=interval)
        stop.wait(interval)
