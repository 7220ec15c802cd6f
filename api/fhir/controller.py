"""FHIR Appointment read and search (IHE ITI-118, Find Existing Appointments), and the
$cancel operation, over the same read model, access rules and cancel command as the JSON API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api.deps import VERSIONED, Injected, MinPosition
from api.fhir.cancel import cancel_command, result_parameters
from api.fhir.replies import reply
from api.fhir.resources import FHIR_JSON, Json, appointment, searchset
from api.fhir.search import SearchRequest, date_range, reference, resource_id, search_request
from api.read_audit import audits_reads
from commands.context import CommandContext
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.access import may_see
from domain.actor import Actor
from domain.errors import NotFoundError, ValidationError
from domain.fhir_status import FHIR_STATUS
from projections.directory import DirectoryQueries
from projections.queries import AppointmentFilter, SchedulingQueries, scoped

REVERSE_STATUS = {
    code: [s.value for s, c in FHIR_STATUS.items() if c == code] for code in FHIR_STATUS.values()
}


def appointment_filter(search: SearchRequest) -> AppointmentFilter:
    start_from, start_to = date_range(search.all("date"), "date")
    statuses: list[str] = []
    for code in search.all("status"):
        if code not in REVERSE_STATUS:
            raise ValidationError(f"unknown Appointment status {code}")
        statuses.extend(REVERSE_STATUS[code])
    patient, practitioner = search.first("patient"), search.first("practitioner")
    return AppointmentFilter(
        patient_id=None if patient is None else reference(patient, "Patient"),
        provider_id=None if practitioner is None else reference(practitioner, "Practitioner"),
        statuses=tuple(statuses),
        start_from=start_from,
        start_to=start_to,
        limit=search.count,
        offset=search.offset,
    )


class AppointmentResource(Controller):
    path = "/Appointment"
    include_in_schema = False

    @audits_reads("Appointment", action="read")
    @get("/{appointment_id:str}", media_type=FHIR_JSON, sync_to_thread=True)
    def read(
        self,
        request: Request[Any, Any, Any],
        queries: Injected[SchedulingQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        appointment_id: FromPath[str],
    ) -> Response[Json]:
        found = queries.appointment(resource_id(appointment_id, "Appointment"))
        if found is None or not may_see(actor, found):
            raise NotFoundError(f"Appointment {appointment_id} not found")
        return reply(request, actor, appointment(found), found.version)

    @audits_reads("Appointment", action="query")
    @get("/", media_type=FHIR_JSON, sync_to_thread=True)
    def search(
        self,
        request: Request[Any, Any, Any],
        queries: Injected[SchedulingQueries],
        directory: Injected[DirectoryQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
    ) -> Response[Json]:
        search = search_request(request, "Appointment", page_cap)
        wanted = scoped(actor, appointment_filter(search))
        page = queries.appointments(wanted, clock.now())
        total = directory.appointment_total(wanted)
        found = searchset(
            [appointment(v) for v in page.items], total, search.links(page.next_offset)
        )
        return reply(request, actor, found)

    @post(
        "/{appointment_id:str}/$cancel",
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
