"""The waitlist projection (issue 11): entries and offers for patients and staff, and the offer
policy's work, each row written with the projection's position in one transaction, so no freed
seat, booking or displaced patient is ever missed:

- openings: a seat may have come free (a seat released, a slot unblocked or created);
- bookings: a patient booked (an entry of theirs may be met elsewhere) or a visit took place;
- displaced: a blocked slot's patients, and appointments the clinic cancelled.

The policy marks what it handled in the same rows; a replay upserts without touching that."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain.actor import Role
from domain.appointment import Appointment
from domain.provider import Provider
from domain.slot import Slot
from domain.waitlist import EntryStatus, WaitlistEntry
from projections.changes import Change, Handlers, RowProjection, Update, Upsert

ENTRIES = "rm_waitlist_entries"
OFFERS = "rm_waitlist_offers"
OPENINGS = "waitlist_openings"
BOOKINGS = "waitlist_bookings"
DISPLACED = "waitlist_displaced"
SLOTS = "waitlist_slots"
PROVIDERS = "waitlist_providers"
# Only a provider's own cancellation displaces the patient: staff also cancel at a patient's
# request, which the event cannot tell apart.
CLINIC = frozenset({Role.PROVIDER.value})
# A hold handed over to the appointment it moves: the seat is taken again in the same save.
HANDED_OVER = "waitlist offer taken as a reschedule"

HANDLERS: Handlers[list[Change]] = Handlers(list)
on = HANDLERS.on


def changes_for(event: object) -> list[Change]:
    return HANDLERS(event)


def opening_id(event: Aggregate.Event) -> str:
    return f"{event.originator_id}/{event.originator_version}"


def _entry(event: Aggregate.Event, **values: Any) -> Change:
    values.update(version=event.originator_version, updated_at=event.timestamp)
    return Update(ENTRIES, {"id": event.originator_id}, values)


def _offer(offer_id: Any, **values: Any) -> Change:
    return Update(OFFERS, {"offer_id": offer_id}, values)


@on(WaitlistEntry.Joined)
def _(event: WaitlistEntry.Joined) -> list[Change]:
    values = {
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "specialty": event.specialty,
        "appointment_type": event.appointment_type,
        "time_zone": event.time_zone,
        "earliest": event.earliest,
        "deadline": event.deadline,
        "windows": {"windows": event.windows},
        "has_area": event.area is not None,
        "tier": event.tier,
        "joined_at": event.joined_at,
        "origin": event.origin,
        "moves_appointment_id": event.moves_appointment_id,
        "moves_start": event.moves_start,
        "status": EntryStatus.WAITING.value,
        "version": event.originator_version,
        "updated_at": event.timestamp,
    }
    return [Upsert(ENTRIES, {"id": event.originator_id}, values)]


@on(WaitlistEntry.Offered)
def _(event: WaitlistEntry.Offered) -> list[Change]:
    offer = {
        "entry_id": event.originator_id,
        "patient_id": event.patient_id,
        "provider_id": event.provider_id,
        "slot_id": event.slot_id,
        "appointment_id": event.appointment_id,
        "slot_start": event.slot_start,
        "offered_at": event.offered_at,
        "expires_at": event.expires_at,
        "status": "open",
        "recorded_at": event.timestamp,
        "rank": event.rank,
        "opening_id": event.rank.get("opening"),
    }
    return [
        _entry(event, status=EntryStatus.OFFERED.value, offer_id=event.offer_id),
        Upsert(OFFERS, {"offer_id": event.offer_id}, offer),
    ]


@on(WaitlistEntry.OfferAccepted)
def _(event: WaitlistEntry.OfferAccepted) -> list[Change]:
    accepted = {
        "status": "accepted",
        "answered_at": event.at,
        "answer_recorded_at": event.timestamp,
    }
    moved = {
        "moved_appointment_id": event.moved_appointment_id,
        "moved_from_start": event.moved_from_start,
    }
    entry = {
        "status": "accepted",
        "offer_id": None,
        "accepted_appointment_id": event.appointment_id,
    }
    return [_entry(event, **entry), _offer(event.offer_id, **accepted, **moved)]


@on(WaitlistEntry.OfferDeclined)
def _(event: WaitlistEntry.OfferDeclined) -> list[Change]:
    entry = {"status": "declined", "offer_id": None, "cooldown_until": event.cooldown_until}
    return [
        _entry(event, **entry),
        _offer(
            event.offer_id,
            status="declined",
            answered_at=event.at,
            answer_recorded_at=event.timestamp,
        ),
    ]


def _waiting_again(
    event: WaitlistEntry.OfferExpired | WaitlistEntry.OfferWithdrawn, status: str
) -> list[Change]:
    offer = _offer(
        event.offer_id, status=status, answered_at=event.at, answer_recorded_at=event.timestamp
    )
    return [_entry(event, status="waiting", offer_id=None), offer]


@on(WaitlistEntry.OfferExpired)
def _(event: WaitlistEntry.OfferExpired) -> list[Change]:
    return _waiting_again(event, "expired")


@on(WaitlistEntry.OfferWithdrawn)
def _(event: WaitlistEntry.OfferWithdrawn) -> list[Change]:
    return _waiting_again(event, "withdrawn")


@on(WaitlistEntry.PriorityChanged)
def _(event: WaitlistEntry.PriorityChanged) -> list[Change]:
    return [_entry(event, tier=event.tier)]


@on(WaitlistEntry.Cancelled)
def _(event: WaitlistEntry.Cancelled) -> list[Change]:
    withdrawn = Update(
        OFFERS,
        {"entry_id": event.originator_id, "status": "open"},
        {"status": "withdrawn", "answered_at": event.at},
    )
    entry = _entry(event, status="cancelled", offer_id=None, closed_reason=event.reason)
    return [entry, withdrawn]


@on(WaitlistEntry.Expired)
def _(event: WaitlistEntry.Expired) -> list[Change]:
    return [_entry(event, status="expired", closed_reason="deadline")]


@on(WaitlistEntry.Fulfilled)
def _(event: WaitlistEntry.Fulfilled) -> list[Change]:
    return [_entry(event, status="fulfilled")]


def _opening(event: Aggregate.Event, kind: str, reason: str | None = None) -> Change:
    values = {
        "slot_id": event.originator_id,
        "kind": kind,
        "reason": reason,
        "freed_at": event.timestamp,
    }
    return Upsert(OPENINGS, {"id": opening_id(event)}, values)


@on(Slot.Created)
def _(event: Slot.Created) -> list[Change]:
    slot = {
        "provider_id": event.provider_id,
        "start_at": event.start,
        "appointment_types": list(event.appointment_types),
    }
    return [Upsert(SLOTS, {"slot_id": event.originator_id}, slot), _opening(event, "created")]


@on(Slot.SeatReleased)
def _(event: Slot.SeatReleased) -> list[Change]:
    return [] if event.reason == HANDED_OVER else [_opening(event, "released", event.reason)]


@on(Slot.Unblocked)
def _(event: Slot.Unblocked) -> list[Change]:
    return [_opening(event, "unblocked")]


@on(Slot.Blocked)
def _(event: Slot.Blocked) -> list[Change]:
    return [
        Upsert(DISPLACED, {"appointment_id": a, "cause": "blocked"}, {"at": event.timestamp})
        for a in event.affected_appointment_ids
    ]


def _booking(event: Aggregate.Event, kind: str, patient: Any = None) -> Change:
    key = {"appointment_id": event.originator_id, "kind": kind}
    return Upsert(BOOKINGS, key, {"patient_id": patient, "at": event.timestamp})


@on(Appointment.Scheduled)
def _(event: Appointment.Scheduled) -> list[Change]:
    return (
        [] if event.hold_expires_at is not None else [_booking(event, "booked", event.patient_id)]
    )


@on(Appointment.BookedFromHold)
def _(event: Appointment.BookedFromHold) -> list[Change]:
    return [_booking(event, "booked")]


@on(Appointment.Completed)
def _(event: Appointment.Completed) -> list[Change]:
    return [_booking(event, "completed")]


@on(Appointment.Cancelled)
def _(event: Appointment.Cancelled) -> list[Change]:
    # The provider cancelled a booking (holds given back are cancelled by other
    # commands): the patient is offered another seat.
    if event.meta.command != "CancelAppointment" or event.meta.actor_role not in CLINIC:
        return []
    key = {"appointment_id": event.originator_id, "cause": "clinic_cancelled"}
    return [Upsert(DISPLACED, key, {"at": event.timestamp})]


@on(Provider.Registered)
def _(event: Provider.Registered) -> list[Change]:
    return _specializations(event.originator_id, event.profile)


@on(Provider.ProfileUpdated)
def _(event: Provider.ProfileUpdated) -> list[Change]:
    return _specializations(event.originator_id, event.changes)


def _specializations(provider_id: Any, profile: dict[str, Any]) -> list[Change]:
    if "specializations" not in profile:
        return [Upsert(PROVIDERS, {"provider_id": provider_id}, {})] if "name" in profile else []
    values = {"specializations": list(profile["specializations"] or [])}
    return [Upsert(PROVIDERS, {"provider_id": provider_id}, values)]


class WaitlistProjection(RowProjection):
    name = "waitlist"
    handlers = HANDLERS
