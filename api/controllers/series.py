"""Recurring series (issue 11): book from an RRULE (all or nothing, or partial), read, cancel
or reschedule one occurrence, this and the following (the series splits) or all, and the
patient's ICS export. Reads come from the event store itself, so they are always current; a
`min_position` is still honoured (the scheduling read model has applied it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.deps import Injected, MinPosition
from api.ics import calendar
from api.openapi import COMMAND, FOUND_OR_NOT, GUARDED, documented
from api.read_audit import audits_reads
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from commands.series.messages import (
    BookSeries,
    CancelSeries,
    RescheduleSeries,
    Scope,
)
from commands.structs import AwareDatetime, CommandResult, ShortText
from domain.actor import Actor
from domain.appointment import Appointment
from domain.errors import NotFoundError
from domain.series import Series
from projections.audit.access import Access

ICS_MEDIA_TYPE = "text/calendar"


class CancelSeriesBody(Body, frozen=True, kw_only=True):
    scope: Scope
    recurrence_id: AwareDatetime | None = None
    reason: ShortText = ""


class RescheduleSeriesBody(Body, frozen=True, kw_only=True):
    scope: Scope
    new_start: AwareDatetime
    recurrence_id: AwareDatetime | None = None
    reason: ShortText = ""


class Alternative(msgspec.Struct, frozen=True, kw_only=True):
    slot_id: UUID
    start: datetime
    end: datetime


class Refused(msgspec.Struct, frozen=True, kw_only=True):
    recurrence_id: datetime
    reason: str
    detail: str
    alternatives: list[Alternative]


class Occurrence(msgspec.Struct, frozen=True, kw_only=True):
    recurrence_id: datetime
    appointment_id: UUID
    slot_id: UUID
    start: datetime
    end: datetime
    status: str


class SeriesView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    patient_id: UUID
    provider_id: UUID
    appointment_type: str
    rrule: str
    time_zone: str
    first_start: datetime
    exdates: list[datetime]
    mode: str
    split_from: UUID | None
    split_at: datetime | None
    split_into: list[UUID]
    occurrences: list[Occurrence]
    refused: list[Refused]
    version: int


class SeriesBooked(msgspec.Struct, frozen=True, kw_only=True):
    """A booked series: the log position to read your write at, and the series."""

    id: UUID
    position: int
    replayed: bool
    series: SeriesView


def refused_of(records: list[dict[str, Any]]) -> list[Refused]:
    return msgspec.convert(records, list[Refused])


def view(series: Series, appointments: list[Appointment]) -> SeriesView:
    return SeriesView(
        id=series.id,
        patient_id=series.patient_id,
        provider_id=series.provider_id,
        appointment_type=series.appointment_type,
        rrule=series.rule,
        time_zone=series.zone,
        first_start=series.first_start,
        exdates=list(series.exdates),
        mode=series.mode.value,
        split_from=series.split_from,
        split_at=series.split_at,
        split_into=list(series.children),
        occurrences=[
            Occurrence(
                recurrence_id=a.recurrence_id or a.start,
                appointment_id=a.id,
                slot_id=a.slot_id,
                start=a.start,
                end=a.end,
                status=a.status.value,
            )
            for a in appointments
        ],
        refused=refused_of(series.refused),
        version=series.version,
    )


def _ics_documented() -> dict[str, Any]:
    found = documented("exportSeriesCalendar", *GUARDED, *FOUND_OR_NOT)
    found["responses"][200] = ResponseSpec(
        data_container=bytes, description="An iCalendar document", media_type=ICS_MEDIA_TYPE
    )
    return found


class SeriesController(Controller):
    path = "/v1"
    tags = ["series"]

    @post(
        "/series",
        status_code=201,
        sync_to_thread=True,
        summary="Book a recurring series",
        dto=StrictBody[BookSeries],
        return_dto=None,
        **documented("bookSeries", *COMMAND),
    )
    def book(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[BookSeries],
    ) -> SeriesBooked:
        """Every occurrence needs a free seat in a slot of the provider starting then. Mode
        `all_or_nothing` books all or nothing (409 `series-conflict` lists each conflicting
        occurrence, why, and the nearest free alternatives in `errors`); `partial` books what
        it can and lists the rest under `refused` (409 if it can book none)."""
        result = scheduling.book_series(data, context)
        series, appointments = scheduling.load_series(result.id, context.actor)
        return SeriesBooked(
            id=result.id,
            position=result.position,
            replayed=result.replayed,
            series=view(series, appointments),
        )

    @audits_reads("Series", action="read")
    @get(
        "/series/{series_id:uuid}",
        sync_to_thread=True,
        summary="A series and its occurrences",
        **documented("getSeries", *GUARDED, *FOUND_OR_NOT),
    )
    def get_series(
        self,
        scheduling: Injected[Scheduling],
        actor: Injected[Actor],
        access: Injected[Access],
        position: Injected[MinPosition],
        series_id: FromPath[UUID],
    ) -> SeriesView:
        """The patient, the provider, staff and auditors; anyone else gets a 404."""
        series, appointments = scheduling.load_series(series_id, actor)
        access.saw(*appointments, patients=[series.patient_id], resources=[series.id])
        return view(series, appointments)

    @post(
        "/series/{series_id:uuid}/cancel",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[CancelSeriesBody],
        return_dto=None,
        **documented("cancelSeries", *COMMAND),
    )
    def cancel(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        series_id: FromPath[UUID],
        data: JSONBody[CancelSeriesBody],
    ) -> CommandResult:
        """`one` (with `recurrence_id`), `following` (from `recurrence_id` on: the series splits
        and `ids.new_series_id` names the new one) or `all`."""
        cmd = CancelSeries(
            series_id=series_id,
            scope=data.scope,
            recurrence_id=data.recurrence_id,
            reason=data.reason,
        )
        return scheduling.cancel_series(cmd, context)

    @post(
        "/series/{series_id:uuid}/reschedule",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[RescheduleSeriesBody],
        return_dto=None,
        **documented("rescheduleSeries", *COMMAND),
    )
    def reschedule(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        series_id: FromPath[UUID],
        data: JSONBody[RescheduleSeriesBody],
    ) -> CommandResult:
        """Move the occurrence `recurrence_id` (or the first movable one, for `all`) to
        `new_start`; `following` and `all` shift each by the same wall-clock amount in the
        provider's zone, all or nothing (409 `series-conflict` lists what cannot move)."""
        cmd = RescheduleSeries(
            series_id=series_id,
            scope=data.scope,
            recurrence_id=data.recurrence_id,
            new_start=data.new_start,
            reason=data.reason,
        )
        return scheduling.reschedule_series(cmd, context)

    @audits_reads("Series", action="read")
    @get(
        "/patients/{patient_id:uuid}/series/{series_id:uuid}/calendar.ics",
        sync_to_thread=True,
        summary="A patient's series as iCalendar",
        media_type=ICS_MEDIA_TYPE,
        **_ics_documented(),
    )
    def export(
        self,
        scheduling: Injected[Scheduling],
        actor: Injected[Actor],
        access: Injected[Access],
        clock: Injected[Clock],
        position: Injected[MinPosition],
        patient_id: FromPath[UUID],
        series_id: FromPath[UUID],
    ) -> Response[bytes]:
        """RFC 5545: the rule with its exceptions, or its occurrences once split; moved
        occurrences as overrides. The series must be that patient's (else 404)."""
        series, appointments = scheduling.load_series(series_id, actor)
        if series.patient_id != patient_id:
            raise NotFoundError(f"series {series_id} not found")
        access.saw(*appointments, patients=[patient_id], resources=[series.id])
        body = calendar([(series, appointments)], clock.now())
        return Response(body, media_type=ICS_MEDIA_TYPE)
