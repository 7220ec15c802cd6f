"""The WaitlistEntry aggregate (issue 11): one patient waiting for a seat with a provider or a
specialty, and the offers made to them, each under a hold on the seat.

Statuses: waiting (eligible), offered (one open offer), declined (the last offer was declined;
eligible again after the cool-down), accepted (an offer was accepted and booked), fulfilled (the
visit booked from an accepted offer took place), expired (its deadline passed), cancelled (left,
or closed because the patient booked a matching appointment elsewhere). An offer that lapses
unanswered puts the entry back to waiting. A seat once offered to an entry is never offered to
it again. The patient's search area is their personal data (encrypted with their key)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import HoldExpiredError, InvalidTransitionError
from domain.personal import PersonalData
from domain.waitlist_offer import (
    OPEN,
    EntryStatus,
    NotEligibleError,
    Offer,
    area_of,
    stored_area,
)
from domain.waitlist_rules import Seat, Want, Window, unsuitable

__all__ = ["OPEN", "EntryStatus", "NotEligibleError", "Offer", "WaitlistEntry"]


class WaitlistEntry(Aggregate):
    class Joined(Aggregate.Created):
        patient_id: UUID
        provider_id: UUID | None
        specialty: str | None
        appointment_type: str
        time_zone: str
        earliest: date
        deadline: date | None
        windows: list[dict[str, Any]]
        area: PersonalData | None
        tier: int
        joined_at: datetime
        moves_appointment_id: UUID | None
        moves_start: datetime | None
        origin: str  # patient, staff, blocked, clinic_cancelled
        meta: EventMeta

    @event(Joined)
    def __init__(
        self,
        id: UUID,
        patient_id: UUID,
        provider_id: UUID | None,
        specialty: str | None,
        appointment_type: str,
        time_zone: str,
        earliest: date,
        deadline: date | None,
        windows: list[dict[str, Any]],
        area: PersonalData | None,
        tier: int,
        joined_at: datetime,
        moves_appointment_id: UUID | None,
        moves_start: datetime | None,
        origin: str,
        meta: EventMeta,
    ) -> None:
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.specialty = specialty
        self.appointment_type = appointment_type
        self.time_zone = time_zone
        self.earliest = earliest
        self.deadline = deadline
        self.windows = windows
        self.area = area
        self.tier = tier
        self.joined_at = joined_at
        self.moves_appointment_id = moves_appointment_id
        self.moves_start = moves_start
        self.origin = origin
        self.accepted_offer_id: UUID | None = None
        self.status = EntryStatus.WAITING
        self.offer: Offer | None = None
        self.offered_slots: set[UUID] = set()
        self.cooldown_until: datetime | None = None
        self.accepted_appointment_id: UUID | None = None

    @classmethod
    def join(cls, entry_id: UUID, patient_id: UUID, want: Want, **rest: Any) -> WaitlistEntry:
        """`rest`: tier, joined_at, moves_appointment_id, origin and meta."""
        return cls(
            id=entry_id,
            patient_id=patient_id,
            provider_id=want.provider_id,
            specialty=want.specialty,
            appointment_type=want.appointment_type,
            time_zone=want.time_zone,
            earliest=want.earliest,
            deadline=want.deadline,
            windows=[w.as_dict() for w in want.windows],
            area=stored_area(patient_id, want.area),
            moves_start=want.before,
            **rest,
        )

    @property
    def want(self) -> Want:
        return Want(
            provider_id=self.provider_id,
            specialty=self.specialty,
            appointment_type=self.appointment_type,
            time_zone=self.time_zone,
            earliest=self.earliest,
            deadline=self.deadline,
            windows=tuple(Window.from_dict(w) for w in self.windows),
            area=area_of(self.area),
            before=self.moves_start,
        )

    def _require(self, allowed: frozenset[EntryStatus], action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransitionError(f"cannot {action} an entry that is {self.status.value}")

    def check_offer(self, seat: Seat, now: datetime, min_lead: timedelta) -> None:
        """Raise NotEligibleError unless this entry may be offered `seat` now."""
        if self.status not in (EntryStatus.WAITING, EntryStatus.DECLINED):
            raise NotEligibleError(f"the entry is {self.status.value}")
        if self.cooldown_until is not None and now < self.cooldown_until:
            raise NotEligibleError("the entry is cooling down after a declined offer")
        if seat.slot_id in self.offered_slots:
            raise NotEligibleError("this seat was offered to the entry before")
        why = unsuitable(self.want, seat, now, min_lead)
        if why is not None:
            raise NotEligibleError(f"the seat does not suit the entry ({why})")

    class Offered(Aggregate.Event):
        offer_id: UUID
        patient_id: UUID
        slot_id: UUID
        provider_id: UUID
        appointment_id: UUID
        slot_start: datetime
        offered_at: datetime
        expires_at: datetime
        rank: dict[str, Any]  # why this entry: its tier, joined time, place among candidates
        meta: EventMeta

    def make_offer(self, offer: Offer, rank: dict[str, Any], meta: EventMeta) -> None:
        self._offered(
            offer.offer_id,
            self.patient_id,
            offer.slot_id,
            offer.provider_id,
            offer.appointment_id,
            offer.slot_start,
            offer.offered_at,
            offer.expires_at,
            rank,
            meta,
        )

    @event(Offered)
    def _offered(
        self,
        offer_id: UUID,
        patient_id: UUID,
        slot_id: UUID,
        provider_id: UUID,
        appointment_id: UUID,
        slot_start: datetime,
        offered_at: datetime,
        expires_at: datetime,
        rank: dict[str, Any],
        meta: EventMeta,
    ) -> None:
        self.offer = Offer(
            offer_id, slot_id, provider_id, appointment_id, slot_start, offered_at, expires_at
        )
        self.offered_slots.add(slot_id)
        self.status = EntryStatus.OFFERED

    def open_offer(self, offer_id: UUID) -> Offer:
        if self.offer is None or self.offer.offer_id != offer_id:
            raise InvalidTransitionError("this offer is not open")
        return self.offer

    def accept(
        self,
        offer_id: UUID,
        now: datetime,
        moved: tuple[UUID, datetime] | None,
        meta: EventMeta,
    ) -> bool:
        """Accept the open offer; False when it was accepted already (a repeat)."""
        if self.status is EntryStatus.ACCEPTED and self.accepted_offer_id == offer_id:
            return False
        self._require(frozenset({EntryStatus.OFFERED}), "accept an offer of")
        offer = self.open_offer(offer_id)
        if now >= offer.expires_at:
            raise HoldExpiredError("the offer has expired")
        booked = moved[0] if moved is not None else offer.appointment_id
        moved_id, moved_from = moved if moved is not None else (None, None)
        self._accepted(offer_id, booked, moved_id, moved_from, now, meta)
        return True

    class OfferAccepted(Aggregate.Event):
        offer_id: UUID
        appointment_id: UUID  # the appointment now in the seat
        moved_appointment_id: UUID | None  # set when accepted as a reschedule
        moved_from_start: datetime | None  # when it was before the move
        at: datetime
        meta: EventMeta

    @event(OfferAccepted)
    def _accepted(
        self,
        offer_id: UUID,
        appointment_id: UUID,
        moved_appointment_id: UUID | None,
        moved_from_start: datetime | None,
        at: datetime,
        meta: EventMeta,
    ) -> None:
        self.status = EntryStatus.ACCEPTED
        self.accepted_offer_id = offer_id
        self.accepted_appointment_id = appointment_id
        self.offer = None

    def decline(self, offer_id: UUID, now: datetime, cooldown: timedelta, meta: EventMeta) -> Offer:
        self._require(frozenset({EntryStatus.OFFERED}), "decline an offer of")
        offer = self.open_offer(offer_id)
        self._declined(offer_id, now, now + cooldown, meta)
        return offer

    class OfferDeclined(Aggregate.Event):
        offer_id: UUID
        at: datetime
        cooldown_until: datetime
        meta: EventMeta

    @event(OfferDeclined)
    def _declined(
        self, offer_id: UUID, at: datetime, cooldown_until: datetime, meta: EventMeta
    ) -> None:
        self.status = EntryStatus.DECLINED
        self.cooldown_until = cooldown_until
        self.offer = None

    def lapse(self, offer_id: UUID, now: datetime, meta: EventMeta) -> Offer:
        """The offer ran out unanswered: the entry waits again."""
        self._require(frozenset({EntryStatus.OFFERED}), "expire an offer of")
        offer = self.open_offer(offer_id)
        if now < offer.expires_at:
            raise InvalidTransitionError("the offer is still open")
        self._lapsed(offer_id, now, meta)
        return offer

    class OfferExpired(Aggregate.Event):
        offer_id: UUID
        at: datetime
        meta: EventMeta

    @event(OfferExpired)
    def _lapsed(self, offer_id: UUID, at: datetime, meta: EventMeta) -> None:
        self.status = EntryStatus.WAITING
        self.offer = None

    def withdraw(self, offer_id: UUID, reason: str, now: datetime, meta: EventMeta) -> Offer:
        """The clinic took the offered seat away (its slot was blocked): no fault of the
        patient's, so no cool-down; the entry waits again for the next seat."""
        self._require(frozenset({EntryStatus.OFFERED}), "withdraw an offer of")
        offer = self.open_offer(offer_id)
        self._withdrawn(offer_id, reason, now, meta)
        return offer

    class OfferWithdrawn(Aggregate.Event):
        offer_id: UUID
        reason: str  # slot_blocked
        at: datetime
        meta: EventMeta

    @event(OfferWithdrawn)
    def _withdrawn(self, offer_id: UUID, reason: str, at: datetime, meta: EventMeta) -> None:
        self.status = EntryStatus.WAITING
        self.offer = None

    def change_tier(self, tier: int, meta: EventMeta) -> None:
        self._require(OPEN, "change the priority of")
        if tier != self.tier:
            self._tier_changed(tier, meta)

    class PriorityChanged(Aggregate.Event):
        tier: int
        meta: EventMeta

    @event(PriorityChanged)
    def _tier_changed(self, tier: int, meta: EventMeta) -> None:
        self.tier = tier

    def cancel(self, reason: str, now: datetime, meta: EventMeta) -> Offer | None:
        """Leave the list (reason `left`) or close it (`booked_elsewhere`); returns the open
        offer, whose hold the caller releases in the same save."""
        self._require(OPEN, "cancel")
        offer = self.offer
        self._cancelled(reason, now, meta)
        return offer

    class Cancelled(Aggregate.Event):
        reason: str
        at: datetime
        meta: EventMeta

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime, meta: EventMeta) -> None:
        self.status = EntryStatus.CANCELLED
        self.offer = None

    def expire(self, now: datetime, meta: EventMeta) -> None:
        """Its deadline passed (an open offer is answered first: the seat is before it)."""
        self._require(frozenset({EntryStatus.WAITING, EntryStatus.DECLINED}), "expire")
        if self.deadline is None or now.astimezone(self._zone()).date() <= self.deadline:
            raise InvalidTransitionError("the entry's deadline has not passed")
        self._expired(now, meta)

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    class Expired(Aggregate.Event):
        at: datetime
        meta: EventMeta

    @event(Expired)
    def _expired(self, at: datetime, meta: EventMeta) -> None:
        self.status = EntryStatus.EXPIRED

    def fulfil(self, appointment_id: UUID, meta: EventMeta) -> bool:
        if (
            self.status is not EntryStatus.ACCEPTED
            or appointment_id != self.accepted_appointment_id
        ):
            return False
        self._fulfilled(appointment_id, meta)
        return True

    class Fulfilled(Aggregate.Event):
        appointment_id: UUID
        meta: EventMeta

    @event(Fulfilled)
    def _fulfilled(self, appointment_id: UUID, meta: EventMeta) -> None:
        self.status = EntryStatus.FULFILLED
