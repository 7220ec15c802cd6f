"""The waitlist (issue 11): join and leave, answer offers (accept as a booking or as a move of a
later appointment, decline), staff priority; a patient's entries and offers, a provider's or a
specialty's queue with positions, and the offer metrics per provider and period."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.deps import Injected, MinPosition, aware, page_size, reads
from api.openapi import COMMAND, FOUND_OR_NOT, GUARDED, QUERY, documented
from api.read_audit import audits_reads
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.scheduling import Scheduling
from commands.structs import CommandResult
from commands.waitlist.messages import (
    AcceptWaitlistOffer,
    DeclineWaitlistOffer,
    JoinWaitlist,
    LeaveWaitlist,
    SetWaitlistPriority,
    Tier,
)
from domain.actor import Actor, Role
from domain.errors import ForbiddenError, NotFoundError, ValidationError
from domain.timerange import TimeRange
from projections.audit.access import Access
from projections.waitlist import WaitlistProjection
from projections.waitlist_queries import EntryView, QueuePlace, WaitlistMetrics, WaitlistQueries

MAX_PERIOD_DAYS = 366
READS = {"position": reads(WaitlistProjection.name)}


class AcceptBody(Body, frozen=True, kw_only=True):
    """`appointment_id`: a later appointment of the patient's to move into the seat instead of
    booking a second one (an entry joined to move one moves it without naming it here)."""

    appointment_id: UUID | None = None


class PriorityBody(Body, frozen=True, kw_only=True):
    tier: Tier


def _queries(found: WaitlistQueries | None) -> WaitlistQueries:
    if found is None:
        raise NotFoundError("the waitlist is not served here")
    return found


def _shown(entry: EntryView, actor: Actor) -> EntryView:
    """Rank inputs are for staff (and auditors, through the audit queries), not for patients."""
    if actor.role is Role.STAFF:
        return entry
    offers = [msgspec.structs.replace(o, rank=None) for o in entry.offers]
    return msgspec.structs.replace(entry, offers=offers)


class WaitlistController(Controller):
    path = "/v1/waitlist"
    tags = ["waitlist"]

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Join the waitlist (a patient for themselves; staff for anyone, with a tier)",
        dto=StrictBody[JoinWaitlist],
        return_dto=None,
        **documented("joinWaitlist", *COMMAND),
    )
    def join(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[JoinWaitlist],
    ) -> CommandResult:
        return scheduling.join_waitlist(data, context)

    @post(
        "/{entry_id:uuid}/leave",
        status_code=200,
        sync_to_thread=True,
        summary="Leave the waitlist (an open offer's hold is given back)",
        **documented("leaveWaitlist", *COMMAND),
    )
    def leave(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        entry_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.leave_waitlist(LeaveWaitlist(entry_id=entry_id), context)

    @post(
        "/{entry_id:uuid}/priority",
        status_code=200,
        sync_to_thread=True,
        summary="Set an entry's priority tier (staff: 0 most urgent to 5)",
        dto=StrictBody[PriorityBody],
        return_dto=None,
        **documented("setWaitlistPriority", *COMMAND),
    )
    def priority(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        entry_id: FromPath[UUID],
        data: JSONBody[PriorityBody],
    ) -> CommandResult:
        command = SetWaitlistPriority(entry_id=entry_id, tier=data.tier)
        return scheduling.set_waitlist_priority(command, context)

    @post(
        "/{entry_id:uuid}/offers/{offer_id:uuid}/accept",
        status_code=200,
        sync_to_thread=True,
        summary="Accept an offer: book the held seat, or move a later appointment into it",
        dto=StrictBody[AcceptBody],
        return_dto=None,
        **documented("acceptWaitlistOffer", *COMMAND),
    )
    def accept(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        entry_id: FromPath[UUID],
        offer_id: FromPath[UUID],
        data: JSONBody[AcceptBody],
    ) -> CommandResult:
        command = AcceptWaitlistOffer(
            entry_id=entry_id, offer_id=offer_id, appointment_id=data.appointment_id
        )
        return scheduling.accept_waitlist_offer(command, context)

    @post(
        "/{entry_id:uuid}/offers/{offer_id:uuid}/decline",
        status_code=200,
        sync_to_thread=True,
        summary="Decline an offer: the seat goes to the next entry",
        **documented("declineWaitlistOffer", *COMMAND),
    )
    def decline(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        entry_id: FromPath[UUID],
        offer_id: FromPath[UUID],
    ) -> CommandResult:
        command = DeclineWaitlistOffer(entry_id=entry_id, offer_id=offer_id)
        return scheduling.decline_waitlist_offer(command, context)

    @audits_reads("WaitlistEntry")
    @get(
        "/",
        sync_to_thread=True,
        summary="A patient's entries and offers (patients: their own; staff: name patient_id)",
        dependencies=READS,
        **documented("listWaitlistEntries", *QUERY, *GUARDED),
    )
    def entries(
        self,
        waitlist_queries: Injected[WaitlistQueries | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        access: Injected[Access],
        page_cap: Injected[int],
        patient_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: FromQuery[int] = 50,
    ) -> list[EntryView]:
        if actor.role is Role.PATIENT:
            if patient_id not in (None, actor.subject):
                raise NotFoundError(f"patient {patient_id} not found")
            patient_id = actor.subject
        elif actor.role is not Role.STAFF:
            raise ForbiddenError("the waitlist is for patients and staff")
        if patient_id is None:
            raise ValidationError("staff name the patient_id whose entries to list")
        found = _queries(waitlist_queries).entries_of(patient_id, page_size(limit, page_cap))
        access.saw(*found, patients=[patient_id])
        return [_shown(e, actor) for e in found]

    @audits_reads("WaitlistEntry", action="read")
    @get(
        "/{entry_id:uuid}",
        sync_to_thread=True,
        summary="One entry and its offers (its patient and staff; anyone else: 404)",
        dependencies=READS,
        **documented("getWaitlistEntry", *QUERY, *FOUND_OR_NOT),
    )
    def entry(
        self,
        waitlist_queries: Injected[WaitlistQueries | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        access: Injected[Access],
        entry_id: FromPath[UUID],
    ) -> EntryView:
        found = _queries(waitlist_queries).entry(entry_id)
        if found is not None:
            access.saw(found)
        mine = (
            actor.role is Role.PATIENT and found is not None and found.patient_id == actor.subject
        )
        if found is None or not (mine or actor.role is Role.STAFF):
            raise NotFoundError(f"waitlist entry {entry_id} not found")
        return _shown(found, actor)

    @audits_reads("WaitlistEntry")
    @get(
        "/queue",
        sync_to_thread=True,
        summary="A provider's or a specialty's waitlist in offer order, with positions",
        dependencies=READS,
        **documented("getWaitlistQueue", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def queue(
        self,
        waitlist_queries: Injected[WaitlistQueries | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        access: Injected[Access],
        page_cap: Injected[int],
        provider_id: Annotated[UUID | None, QueryParameter()] = None,
        specialty: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: FromQuery[int] = 50,
    ) -> list[QueuePlace]:
        _may_see_provider(actor, provider_id)
        if (provider_id is None) == (specialty is None):
            raise ValidationError("name either provider_id or specialty")
        places = _queries(waitlist_queries).queue(
            provider_id, specialty, page_size(limit, page_cap)
        )
        access.saw(patients=[p.patient_id for p in places])
        return places

    @get(
        "/offer-metrics",
        sync_to_thread=True,
        summary="Offers, acceptance rate, fill rate, median time to fill and days gained",
        dependencies=READS,
        **documented("getWaitlistMetrics", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def metrics(
        self,
        waitlist_queries: Injected[WaitlistQueries | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        provider_id: Annotated[UUID, QueryParameter()],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
    ) -> WaitlistMetrics:
        if actor.role is not Role.ANALYST:
            _may_see_provider(actor, provider_id)
        period = TimeRange(aware(start_from, "from"), aware(start_to, "to"))
        if period.duration.days > MAX_PERIOD_DAYS:
            raise ValidationError(f"a period may span at most {MAX_PERIOD_DAYS} days")
        return _queries(waitlist_queries).metrics(provider_id, period.start, period.end)


def _may_see_provider(actor: Actor, provider_id: UUID | None) -> None:
    """Staff see every provider's waitlist; a provider their own; anyone else nothing."""
    if actor.role is Role.STAFF:
        return
    if actor.role is Role.PROVIDER:
        if provider_id != actor.subject:
            raise NotFoundError(f"provider {provider_id} not found")
        return
    raise ForbiddenError("the waitlist's queue and metrics are for staff and the provider")
