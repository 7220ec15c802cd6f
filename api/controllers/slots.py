"""Slot commands and availability/schedule queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.as_of import AS_OF_HEADERS, AsOfPosition, AsOfTime, headers, wanted_position
from api.deps import Injected, MinPosition, Offset, aware, optional_aware, page_size
from api.openapi import COMMAND, FOUND_OR_NOT, GUARDED, QUERY, documented
from api.read_audit import audits_reads
from api.schemas import ReasonBody
from api.strict import StrictBody
from commands.appointments.messages import AppointmentType
from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    UnblockWindow,
)
from commands.structs import CommandResult
from domain.actor import Actor
from domain.errors import ForbiddenError, NotFoundError, ValidationError
from projections.audit.access import Access
from projections.history import History
from projections.queries import (
    Page,
    ProviderSchedule,
    SchedulingQueries,
    SlotFilter,
    SlotView,
    may_see_schedule,
)

MAX_RANGE = timedelta(days=62)


class SlotController(Controller):
    path = "/v1/slots"
    tags = ["slots"]

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Publish one slot",
        dto=StrictBody[CreateSlot],
        return_dto=None,
        **documented("createSlot", *COMMAND),
    )
    def create(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[CreateSlot],
    ) -> CommandResult:
        return scheduling.create_slot(data, context)

    @post(
        "/generate",
        status_code=201,
        sync_to_thread=True,
        summary="Slots from weekly hours",
        dto=StrictBody[GenerateSlots],
        return_dto=None,
        **documented("generateSlots", *COMMAND),
    )
    def generate(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[GenerateSlots],
    ) -> CommandResult:
        return scheduling.generate_slots(data, context)

    @post(
        "/block",
        status_code=200,
        sync_to_thread=True,
        summary="Block every overlapping slot",
        dto=StrictBody[BlockWindow],
        return_dto=None,
        **documented("blockWindow", *COMMAND),
    )
    def block(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[BlockWindow],
    ) -> CommandResult:
        return scheduling.block_window(data, context)

    @post(
        "/unblock",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[UnblockWindow],
        return_dto=None,
        **documented("unblockWindow", *COMMAND),
    )
    def unblock(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[UnblockWindow],
    ) -> CommandResult:
        return scheduling.unblock_window(data, context)

    @post(
        "/{slot_id:uuid}/cancel",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[ReasonBody],
        return_dto=None,
        **documented("cancelSlot", *COMMAND),
    )
    def cancel(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        slot_id: FromPath[UUID],
        data: JSONBody[ReasonBody],
    ) -> CommandResult:
        return scheduling.cancel_slot(CancelSlot(slot_id=slot_id, reason=data.reason), context)

    @get(
        "/available",
        sync_to_thread=True,
        summary="Bookable slots, soonest first",
        **documented("listAvailableSlots", *QUERY),
    )
    def available(
        self,
        queries: Injected[SchedulingQueries],
        clock: Injected[Clock],
        position: Injected[MinPosition],
        page_cap: Injected[int],
        start_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        provider_id: FromQuery[UUID | None] = None,
        appointment_type: Annotated[AppointmentType | None, QueryParameter(name="type")] = None,
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[SlotView]:
        now = clock.now()
        first = optional_aware(start_from, "from") or now
        last = optional_aware(start_to, "to") or first + timedelta(days=14)
        if last <= first or last - first > MAX_RANGE:
            raise ValidationError(f"'to' must be after 'from' and within {MAX_RANGE.days} days")
        wanted = SlotFilter(
            start_from=first,
            start_to=last,
            provider_id=provider_id,
            appointment_type=appointment_type,
            limit=page_size(limit, page_cap),
            offset=offset,
        )
        return queries.available_slots(wanted, now)


class ScheduleController(Controller):
    path = "/v1/providers"
    tags = ["schedule"]

    @audits_reads("Schedule")
    @get(
        "/{provider_id:uuid}/schedule",
        sync_to_thread=True,
        response_headers=AS_OF_HEADERS,
        summary="Day or range schedule",
        **documented("getProviderSchedule", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def schedule(
        self,
        queries: Injected[SchedulingQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        access: Injected[Access],
        history: Injected[History],
        provider_id: FromPath[UUID],
        day: FromQuery[date],
        last_day: FromQuery[date | None] = None,
        as_of: AsOfTime = None,
        as_of_position: AsOfPosition = None,
    ) -> Response[ProviderSchedule]:
        """The schedule names patients, so only staff, auditors and the provider may read it.
        Staff and auditors may ask for it as it was at `as_of` or after `as_of_position`,
        rebuilt from the event log and labelled in the response headers."""
        if not may_see_schedule(actor, provider_id):
            raise ForbiddenError("only staff, auditors and the provider may read this schedule")
        last = last_day or day
        if last < day or (last - day).days > MAX_RANGE.days:
            raise ValidationError(f"last_day must be on or after day, within {MAX_RANGE.days}")
        at = wanted_position(actor, history, as_of, as_of_position)
        extra: dict[str, str] = {}
        if at is None:
            found = queries.schedule(provider_id, day, last, clock.now())
        else:
            now = aware(as_of, "as_of") if as_of is not None else clock.now()
            found = history.schedule(provider_id, day, last, at, now)
            extra = headers(history.label(at))
        if found is None:
            raise NotFoundError(f"provider {provider_id} not found")
        access.saw(*found.appointments, resources=[provider_id])
        return Response(found, headers=extra)
