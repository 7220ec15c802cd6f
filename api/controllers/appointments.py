"""Appointment commands (POST) and queries (GET)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.as_of import AS_OF_HEADERS, AsOfPosition, AsOfTime, headers, wanted_position
from api.deps import VERSIONED, Injected, MinPosition, Offset, optional_aware, page_size
from api.openapi import COMMAND, FOUND_OR_NOT, GUARDED, QUERY, documented
from api.read_audit import audits_reads
from api.schemas import CancelBody, CompleteBody, ReasonBody, RescheduleBody
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
from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from commands.structs import CommandResult
from domain.access import may_see
from domain.actor import Actor
from domain.appointment import ACTIVE, Status
from domain.errors import NotFoundError, ValidationError
from projections.audit.access import Access
from projections.history import History
from projections.queries import (
    AppointmentFilter,
    AppointmentView,
    Page,
    SchedulingQueries,
    scoped,
)

FINISHED = (Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW)
ETAG = ResponseHeader(
    name="ETag",
    description='The appointment\'s version, such as "3"; send it back as If-Match to change it.',
    value='"3"',
    required=True,
    documentation_only=True,
)


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
        **documented("bookAppointment", *COMMAND),
    )
    def book(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[BookAppointment],
    ) -> CommandResult:
        return scheduling.book(data, context)

    @post(
        "/holds",
        status_code=201,
        sync_to_thread=True,
        summary="Hold a seat for a while",
        dto=StrictBody[HoldAppointment],
        return_dto=None,
        **documented("holdAppointment", *COMMAND),
    )
    def hold(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[HoldAppointment],
    ) -> CommandResult:
        return scheduling.hold(data, context)

    @post(
        "/{appointment_id:uuid}/confirm",
        status_code=200,
        sync_to_thread=True,
        dependencies=VERSIONED,
        **documented("confirmAppointment", *COMMAND),
    )
    def confirm(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.confirm(ConfirmAppointment(appointment_id=appointment_id), context)

    @post(
        "/{appointment_id:uuid}/check-in",
        status_code=200,
        sync_to_thread=True,
        dependencies=VERSIONED,
        **documented("checkInAppointment", *COMMAND),
    )
    def check_in(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.check_in(CheckIn(appointment_id=appointment_id), context)

    @post(
        "/{appointment_id:uuid}/start",
        status_code=200,
        sync_to_thread=True,
        dependencies=VERSIONED,
        **documented("startAppointment", *COMMAND),
    )
    def start(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.start(StartAppointment(appointment_id=appointment_id), context)

    @post(
        "/{appointment_id:uuid}/complete",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[CompleteBody],
        return_dto=None,
        dependencies=VERSIONED,
        **documented("completeAppointment", *COMMAND),
    )
    def complete(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[CompleteBody],
    ) -> CommandResult:
        cmd = CompleteAppointment(
            appointment_id=appointment_id,
            notes=data.notes,
            private_notes=data.private_notes,
            vitals=data.vitals,
            follow_up_requested=data.follow_up_requested,
            follow_up=data.follow_up,
        )
        return scheduling.complete(cmd, context)

    @post(
        "/{appointment_id:uuid}/cancel",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[CancelBody],
        return_dto=None,
        dependencies=VERSIONED,
        **documented("cancelAppointment", *COMMAND),
    )
    def cancel(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[CancelBody],
    ) -> CommandResult:
        cmd = CancelAppointment(
            appointment_id=appointment_id, reason=data.reason, fee=data.fee, currency=data.currency
        )
        return scheduling.cancel(cmd, context)

    @post(
        "/{appointment_id:uuid}/reschedule",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[RescheduleBody],
        return_dto=None,
        dependencies=VERSIONED,
        **documented("rescheduleAppointment", *COMMAND),
    )
    def reschedule(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[RescheduleBody],
    ) -> CommandResult:
        cmd = RescheduleAppointment(
            appointment_id=appointment_id, new_slot_id=data.new_slot_id, reason=data.reason
        )
        return scheduling.reschedule(cmd, context)

    @post(
        "/{appointment_id:uuid}/no-show",
        status_code=200,
        sync_to_thread=True,
        dependencies=VERSIONED,
        **documented("markNoShow", *COMMAND),
    )
    def no_show(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.mark_no_show(MarkNoShow(appointment_id=appointment_id), context)

    @post(
        "/{appointment_id:uuid}/no-show/revert",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[ReasonBody],
        return_dto=None,
        dependencies=VERSIONED,
        **documented("revertNoShow", *COMMAND),
    )
    def revert_no_show(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[ReasonBody],
    ) -> CommandResult:
        cmd = RevertNoShow(appointment_id=appointment_id, reason=data.reason)
        return scheduling.revert_no_show(cmd, context)

    @post(
        "/{appointment_id:uuid}/expire-hold",
        status_code=200,
        sync_to_thread=True,
        dependencies=VERSIONED,
        **documented("expireHold", *COMMAND),
    )
    def expire_hold(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.expire_hold(ExpireHold(appointment_id=appointment_id), context)

    @audits_reads("Appointment")
    @get(
        "/",
        sync_to_thread=True,
        summary="List appointments with filters",
        response_headers=AS_OF_HEADERS,
        **documented("listAppointments", *QUERY, *GUARDED),
    )
    def list_appointments(
        self,
        queries: Injected[SchedulingQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
        access: Injected[Access],
        history: Injected[History],
        patient_id: FromQuery[UUID | None] = None,
        provider_id: FromQuery[UUID | None] = None,
        status: FromQuery[list[Status] | None] = None,
        start_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
        as_of: AsOfTime = None,
        as_of_position: AsOfPosition = None,
    ) -> Response[Page[AppointmentView]]:
        """Appointments the caller may see, filtered. Staff and auditors may ask for one
        patient's agenda (`patient_id`) as it was at `as_of` or after `as_of_position`, rebuilt
        from the event log and labelled in the response headers."""
        wanted = AppointmentFilter(
            patient_id=patient_id,
            provider_id=provider_id,
            statuses=tuple(s.value for s in status or ()),
            start_from=optional_aware(start_from, "from"),
            start_to=optional_aware(start_to, "to"),
            limit=page_size(limit, page_cap),
            offset=offset,
        )
        at = wanted_position(actor, history, as_of, as_of_position)
        if at is None:
            return Response(_list(queries, clock, actor, wanted, access))
        if patient_id is None:
            raise ValidationError("as_of lists one patient's agenda: give patient_id")
        now = optional_aware(as_of, "as_of") or clock.now()
        page = history.agenda(wanted, at, now)
        access.saw(*page.items, patients=[patient_id])
        return Response(page, headers=headers(history.label(at)))

    @audits_reads("Appointment")
    @get(
        "/upcoming",
        sync_to_thread=True,
        summary="Active appointments from now on",
        **documented("listUpcomingAppointments", *QUERY, *GUARDED),
    )
    def upcoming(
        self,
        queries: Injected[SchedulingQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
        access: Injected[Access],
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[AppointmentView]:
        wanted = AppointmentFilter(
            statuses=tuple(s.value for s in ACTIVE),
            # A visit that has begun but not ended (checked in, in progress) is still upcoming.
            ends_after=clock.now(),
            limit=page_size(limit, page_cap),
            offset=offset,
        )
        return _list(queries, clock, actor, wanted, access)

    @audits_reads("Appointment")
    @get(
        "/history",
        sync_to_thread=True,
        summary="Finished appointments, newest first",
        **documented("listAppointmentHistory", *QUERY, *GUARDED),
    )
    def history(
        self,
        queries: Injected[SchedulingQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
        access: Injected[Access],
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[AppointmentView]:
        wanted = AppointmentFilter(
            statuses=tuple(s.value for s in FINISHED),
            newest_first=True,
            limit=page_size(limit, page_cap),
            offset=offset,
        )
        return _list(queries, clock, actor, wanted, access)

    @audits_reads("Appointment", action="read")
    @get(
        "/{appointment_id:uuid}",
        sync_to_thread=True,
        response_headers=[ETAG, *AS_OF_HEADERS],
        **documented("getAppointment", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def get_appointment(
        self,
        queries: Injected[SchedulingQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        access: Injected[Access],
        history: Injected[History],
        appointment_id: FromPath[UUID],
        as_of: AsOfTime = None,
        as_of_position: AsOfPosition = None,
    ) -> Response[AppointmentView]:
        """The appointment now, or (staff and auditors) as it was at `as_of` or after
        `as_of_position`, rebuilt from the event log and labelled in the response headers."""
        at = wanted_position(actor, history, as_of, as_of_position)
        extra: dict[str, str] = {}
        if at is None:
            found = queries.appointment(appointment_id)
        else:
            found = history.appointment(appointment_id, at)
            extra = headers(history.label(at))
        if found is not None:
            access.saw(found)  # a refusal is recorded with whose appointment it was
        if found is None or not may_see(actor, found):
            raise NotFoundError(f"appointment {appointment_id} not found")
        return Response(found, headers={"ETag": f'"{found.version}"', **extra})


def _list(
    queries: Injected[SchedulingQueries],
    clock: Injected[Clock],
    actor: Injected[Actor],
    wanted: AppointmentFilter,
    access: Access,
) -> Page[AppointmentView]:
    page = queries.appointments(scoped(actor, wanted), clock.now())
    access.saw(*page.items)
    return page
