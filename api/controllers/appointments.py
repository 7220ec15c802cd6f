"""Appointment commands (POST) and queries (GET)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.schemas import CancelBody, CompleteBody, ReasonBody, RescheduleBody
from api.services import actor, await_position, command_context, page_size, services
from api.strict import StrictBody
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
from commands.structs import CommandResult
from domain.access import may_see
from domain.appointment import ACTIVE, Status
from domain.errors import NotFoundError, ValidationError
from domain.timerange import require_aware
from projections.queries import AppointmentFilter, AppointmentView, Page, scoped

Req = Request[Any, Any, Any]
FINISHED = (Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW)


def _aware(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else require_aware(value, name)


class AppointmentController(Controller):
    path = "/v1/appointments"
    tags = ["appointments"]

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Book a seat, or book a hold",
        dto=StrictBody[BookAppointment],
        return_dto=None,
    )
    def book(self, request: Req, data: JSONBody[BookAppointment]) -> CommandResult:
        return services(request).scheduling.book(data, command_context(request))

    @post(
        "/holds",
        status_code=201,
        sync_to_thread=True,
        summary="Hold a seat for a while",
        dto=StrictBody[HoldAppointment],
        return_dto=None,
    )
    def hold(self, request: Req, data: JSONBody[HoldAppointment]) -> CommandResult:
        return services(request).scheduling.hold(data, command_context(request))

    @post("/{appointment_id:uuid}/confirm", status_code=200, sync_to_thread=True)
    def confirm(self, request: Req, appointment_id: FromPath[UUID]) -> CommandResult:
        cmd = ConfirmAppointment(appointment_id=appointment_id)
        return services(request).scheduling.confirm(cmd, command_context(request))

    @post("/{appointment_id:uuid}/check-in", status_code=200, sync_to_thread=True)
    def check_in(self, request: Req, appointment_id: FromPath[UUID]) -> CommandResult:
        cmd = CheckIn(appointment_id=appointment_id)
        return services(request).scheduling.check_in(cmd, command_context(request))

    @post("/{appointment_id:uuid}/start", status_code=200, sync_to_thread=True)
    def start(self, request: Req, appointment_id: FromPath[UUID]) -> CommandResult:
        cmd = StartAppointment(appointment_id=appointment_id)
        return services(request).scheduling.start(cmd, command_context(request))

    @post(
        "/{appointment_id:uuid}/complete",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[CompleteBody],
        return_dto=None,
    )
    def complete(
        self, request: Req, appointment_id: FromPath[UUID], data: JSONBody[CompleteBody]
    ) -> CommandResult:
        cmd = CompleteAppointment(
            appointment_id=appointment_id,
            notes=data.notes,
            private_notes=data.private_notes,
            vitals=data.vitals,
            follow_up_requested=data.follow_up_requested,
        )
        return services(request).scheduling.complete(cmd, command_context(request))

    @post(
        "/{appointment_id:uuid}/cancel",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[CancelBody],
        return_dto=None,
    )
    def cancel(
        self, request: Req, appointment_id: FromPath[UUID], data: JSONBody[CancelBody]
    ) -> CommandResult:
        cmd = CancelAppointment(
            appointment_id=appointment_id, reason=data.reason, fee=data.fee, currency=data.currency
        )
        return services(request).scheduling.cancel(cmd, command_context(request))

    @post(
        "/{appointment_id:uuid}/reschedule",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[RescheduleBody],
        return_dto=None,
    )
    def reschedule(
        self, request: Req, appointment_id: FromPath[UUID], data: JSONBody[RescheduleBody]
    ) -> CommandResult:
        cmd = RescheduleAppointment(
            appointment_id=appointment_id, new_slot_id=data.new_slot_id, reason=data.reason
        )
        return services(request).scheduling.reschedule(cmd, command_context(request))

    @post("/{appointment_id:uuid}/no-show", status_code=200, sync_to_thread=True)
    def no_show(self, request: Req, appointment_id: FromPath[UUID]) -> CommandResult:
        cmd = MarkNoShow(appointment_id=appointment_id)
        return services(request).scheduling.mark_no_show(cmd, command_context(request))

    @post(
        "/{appointment_id:uuid}/no-show/revert",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[ReasonBody],
        return_dto=None,
    )
    def revert_no_show(
        self, request: Req, appointment_id: FromPath[UUID], data: JSONBody[ReasonBody]
    ) -> CommandResult:
        cmd = RevertNoShow(appointment_id=appointment_id, reason=data.reason)
        return services(request).scheduling.revert_no_show(cmd, command_context(request))

    @post("/{appointment_id:uuid}/expire-hold", status_code=200, sync_to_thread=True)
    def expire_hold(self, request: Req, appointment_id: FromPath[UUID]) -> CommandResult:
        cmd = ExpireHold(appointment_id=appointment_id)
        return services(request).scheduling.expire_hold(cmd, command_context(request))

    @get("/", sync_to_thread=True, summary="List appointments with filters")
    def list_appointments(
        self,
        request: Req,
        patient_id: FromQuery[UUID | None] = None,
        provider_id: FromQuery[UUID | None] = None,
        status: FromQuery[list[Status] | None] = None,
        start_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        limit: FromQuery[int] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        min_position: FromQuery[int | None] = None,
    ) -> Page[AppointmentView]:
        wanted = AppointmentFilter(
            patient_id=patient_id,
            provider_id=provider_id,
            statuses=tuple(s.value for s in status or ()),
            start_from=_aware(start_from, "from"),
            start_to=_aware(start_to, "to"),
            limit=page_size(request, limit),
            offset=offset,
        )
        return self._list(request, wanted, min_position)

    @get("/upcoming", sync_to_thread=True, summary="Active appointments from now on")
    def upcoming(
        self,
        request: Req,
        limit: FromQuery[int] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        min_position: FromQuery[int | None] = None,
    ) -> Page[AppointmentView]:
        now = services(request).clock.now()
        wanted = AppointmentFilter(
            statuses=tuple(s.value for s in ACTIVE),
            # A visit that has begun but not ended (checked in, in progress) is still upcoming.
            ends_after=now,
            limit=page_size(request, limit),
            offset=offset,
        )
        return self._list(request, wanted, min_position)

    @get("/history", sync_to_thread=True, summary="Finished appointments, newest first")
    def history(
        self,
        request: Req,
        limit: FromQuery[int] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        min_position: FromQuery[int | None] = None,
    ) -> Page[AppointmentView]:
        wanted = AppointmentFilter(
            statuses=tuple(s.value for s in FINISHED),
            newest_first=True,
            limit=page_size(request, limit),
            offset=offset,
        )
        return self._list(request, wanted, min_position)

    def _list(
        self, request: Req, wanted: AppointmentFilter, min_position: int | None
    ) -> Page[AppointmentView]:
        if wanted.offset < 0:
            raise ValidationError("offset must not be negative")
        await_position(request, min_position)
        svc = services(request)
        return svc.queries.appointments(scoped(actor(request), wanted), svc.clock.now())

    @get("/{appointment_id:uuid}", sync_to_thread=True)
    def get_appointment(
        self,
        request: Req,
        appointment_id: FromPath[UUID],
        min_position: FromQuery[int | None] = None,
    ) -> Response[AppointmentView]:
        await_position(request, min_position)
        found = services(request).queries.appointment(appointment_id)
        if found is None or not may_see(actor(request), found):
            raise NotFoundError(f"appointment {appointment_id} not found")
        return Response(found, headers={"ETag": f'"{found.version}"'})
