"""FHIR R4 routes: the CapabilityStatement and Appointment read and search, over the same
read-model query port and access rules as the JSON API. Errors answer OperationOutcome with the
status the problem table (api/problems.py) gives the same error."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api.deps import MAX_OFFSET, VERSIONED, Injected, MinPosition, aware, reads
from api.fhir.cancel import cancel_command, result_parameters
from api.fhir.resources import (
    FHIR_JSON,
    Json,
    appointment,
    capability_statement,
    operation_outcome,
    searchset,
)
from api.problems import EXCEPTION_HANDLERS
from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.access import may_see
from domain.actor import Actor
from domain.errors import NotFoundError, ValidationError
from domain.fhir_status import FHIR_STATUS
from projections.queries import AppointmentFilter, SchedulingQueries, scoped
from projections.scheduling import SchedulingProjection

ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict"}
ISSUE_CODES |= {412: "conflict", 422: "invalid", 429: "throttled", 503: "transient"}


def fhir_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Json]:
    """The JSON API's own handler decides the status; its problem becomes an OperationOutcome."""
    handler = next(EXCEPTION_HANDLERS[t] for t in type(exc).__mro__ if t in EXCEPTION_HANDLERS)
    answer = handler(request, exc)
    problem = msgspec.to_builtins(answer.content)
    status = answer.status_code
    body = operation_outcome(status, ISSUE_CODES.get(status, "exception"), problem["detail"])
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)


def _reference(value: str, kind: str) -> UUID:
    try:
        return UUID(value.removeprefix(f"{kind}/"))
    except ValueError:
        raise ValidationError(f"search parameter must reference a {kind} id") from None


def _date(value: str) -> tuple[str, datetime]:
    prefix, rest = (value[:2], value[2:]) if value[:2] in ("ge", "le", "gt", "lt") else ("", value)
    try:
        parsed = datetime.fromisoformat(rest.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("date must be an instant with a time zone") from None
    if prefix == "":
        raise ValidationError("date needs a ge/gt/le/lt prefix")
    return prefix, aware(parsed, "date")


REVERSE_STATUS = {
    code: [s.value for s, c in FHIR_STATUS.items() if c == code] for code in FHIR_STATUS.values()
}


def _filter(request: Request[Any, Any, Any], cap: int) -> AppointmentFilter:
    params = request.query_params
    known = {"patient", "practitioner", "date", "status", "_count", "_offset", "min_position"}
    unknown = sorted(set(params.keys()) - known)
    if unknown:
        raise ValidationError(f"unsupported search parameter {unknown[0]}")
    start_from = start_to = None
    for raw in params.getall("date", []):
        prefix, when = _date(raw)
        if prefix in ("ge", "gt"):
            start_from = when
        else:
            start_to = when
    statuses: list[str] = []
    for raw in params.getall("status", []):
        for code in raw.split(","):
            if code not in REVERSE_STATUS:
                raise ValidationError(f"unknown Appointment status {code}")
            statuses.extend(REVERSE_STATUS[code])
    try:
        count = min(int(params.get("_count", "50")), cap)
        offset = int(params.get("_offset", "0"))
    except ValueError:
        raise ValidationError("_count and _offset must be whole numbers") from None
    if count < 1 or not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"_count must be at least 1 and _offset 0 to {MAX_OFFSET}")
    patient, practitioner = params.get("patient"), params.get("practitioner")
    return AppointmentFilter(
        patient_id=None if patient is None else _reference(patient, "Patient"),
        provider_id=None if practitioner is None else _reference(practitioner, "Practitioner"),
        statuses=tuple(statuses),
        start_from=start_from,
        start_to=start_to,
        limit=count,
        offset=offset,
    )


class FhirController(Controller):
    path = "/fhir/r4"
    tags = ["fhir"]
    # Described by its CapabilityStatement (/fhir/r4/metadata), not the OpenAPI document.
    include_in_schema = False
    dependencies = {"position": reads(SchedulingProjection.name)}
    # The same keys as the app's table, so this layer's handler wins for each of them.
    exception_handlers = dict.fromkeys(EXCEPTION_HANDLERS, fhir_error)

    @get("/metadata", media_type=FHIR_JSON, sync_to_thread=False)
    def metadata(self, clock: Injected[Clock]) -> Json:
        return capability_statement(clock.now())

    @get("/Appointment/{appointment_id:str}", media_type=FHIR_JSON, sync_to_thread=True)
    def read_appointment(
        self,
        queries: Injected[SchedulingQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        appointment_id: FromPath[str],
    ) -> Response[Json]:
        try:
            wanted = UUID(appointment_id)
        except ValueError:
            raise NotFoundError(f"Appointment {appointment_id} not found") from None
        found = queries.appointment(wanted)
        if found is None or not may_see(actor, found):
            raise NotFoundError(f"Appointment {appointment_id} not found")
        return Response(
            appointment(found), media_type=FHIR_JSON, headers={"ETag": f'W/"{found.version}"'}
        )

    @get("/Appointment", media_type=FHIR_JSON, sync_to_thread=True)
    def search_appointments(
        self,
        request: Request[Any, Any, Any],
        queries: Injected[SchedulingQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
    ) -> Json:
        wanted = _filter(request, page_cap)
        page = queries.appointments(scoped(actor, wanted), clock.now())
        resources = [appointment(v) for v in page.items]
        query = {k: v for k, v in request.query_params.items() if k != "_offset"}
        here = f"{request.url.path}?{urlencode({**query, '_offset': wanted.offset})}"
        after = page.next_offset
        nxt = (
            None
            if after is None
            else f"{request.url.path}?{urlencode({**query, '_offset': after})}"
        )
        return searchset(resources, here, nxt)

    @post(
        "/Appointment/{appointment_id:str}/$cancel",
        status_code=200,
        media_type=FHIR_JSON,
        sync_to_thread=True,
        dependencies=VERSIONED,
    )
    def cancel(
        self,
        request: Request[Any, Any, Any],
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[str],
        data: JSONBody[Any],
    ) -> Json:
        """The cancel command: If-Match (W/"n") and Idempotency-Key as on the JSON API."""
        result = scheduling.cancel(cancel_command(appointment_id, data), context)
        return result_parameters(request, result)
