"""Slot commands and availability/schedule queries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.schemas import ReasonBody
from api.services import actor, await_position, command_context, page_size, services
from api.strict import StrictBody
from commands.appointments.messages import AppointmentType
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    UnblockWindow,
)
from commands.structs import CommandResult
from domain.errors import ForbiddenError, NotFoundError, ValidationError
from domain.timerange import require_aware
from projections.queries import Page, ProviderSchedule, SlotFilter, SlotView, may_see_schedule

Req = Request[Any, Any, Any]
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
    )
    def create(self, request: Req, data: JSONBody[CreateSlot]) -> CommandResult:
        return services(request).scheduling.create_slot(data, command_context(request))

    @post(
        "/generate",
        status_code=201,
        sync_to_thread=True,
        summary="Slots from weekly hours",
        dto=StrictBody[GenerateSlots],
        return_dto=None,
    )
    def generate(self, request: Req, data: JSONBody[GenerateSlots]) -> CommandResult:
        return services(request).scheduling.generate_slots(data, command_context(request))

    @post(
        "/block",
        status_code=200,
        sync_to_thread=True,
        summary="Block every overlapping slot",
        dto=StrictBody[BlockWindow],
        return_dto=None,
    )
    def block(self, request: Req, data: JSONBody[BlockWindow]) -> CommandResult:
        return services(request).scheduling.block_window(data, command_context(request))

    @post(
        "/unblock",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[UnblockWindow],
        return_dto=None,
    )
    def unblock(self, request: Req, data: JSONBody[UnblockWindow]) -> CommandResult:
        return services(request).scheduling.unblock_window(data, command_context(request))

    @post(
        "/{slot_id:uuid}/cancel",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[ReasonBody],
        return_dto=None,
    )
    def cancel(
        self, request: Req, slot_id: FromPath[UUID], data: JSONBody[ReasonBody]
    ) -> CommandResult:
        cmd = CancelSlot(slot_id=slot_id, reason=data.reason)
        return services(request).scheduling.cancel_slot(cmd, command_context(request))

    @get("/available", sync_to_thread=True, summary="Bookable slots, soonest first")
    def available(
        self,
        request: Req,
        start_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        provider_id: FromQuery[UUID | None] = None,
        appointment_type: Annotated[AppointmentType | None, QueryParameter(name="type")] = None,
        limit: FromQuery[int] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        min_position: FromQuery[int | None] = None,
    ) -> Page[SlotView]:
        await_position(request, min_position)
        svc = services(request)
        now = svc.clock.now()
        first = require_aware(start_from, "from") if start_from else now
        last = require_aware(start_to, "to") if start_to else first + timedelta(days=14)
        if last <= first or last - first > MAX_RANGE:
            raise ValidationError(f"'to' must be after 'from' and within {MAX_RANGE.days} days")
        wanted = SlotFilter(
            start_from=first,
            start_to=last,
            provider_id=provider_id,
            appointment_type=appointment_type,
            limit=page_size(request, limit),
            offset=offset,
        )
        return svc.queries.available_slots(wanted, now)


class ScheduleController(Controller):
    path = "/v1/providers"
    tags = ["schedule"]

    @get("/{provider_id:uuid}/schedule", sync_to_thread=True, summary="Day or range schedule")
    def schedule(
        self,
        request: Req,
        provider_id: FromPath[UUID],
        day: FromQuery[date],
        last_day: FromQuery[date | None] = None,
        min_position: FromQuery[int | None] = None,
    ) -> ProviderSchedule:
        """The schedule names patients, so only staff, auditors and the provider may read it."""
        if not may_see_schedule(actor(request), provider_id):
            raise ForbiddenError("only staff, auditors and the provider may read this schedule")
        await_position(request, min_position)
        last = last_day or day
        if last < day or (last - day).days > MAX_RANGE.days:
            raise ValidationError(f"last_day must be on or after day, within {MAX_RANGE.days}")
        svc = services(request)
        found = svc.queries.schedule(provider_id, day, last, svc.clock.now())
        if found is None:
            raise NotFoundError(f"provider {provider_id} not found")
        return found
