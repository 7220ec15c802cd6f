"""IHE ITI Scheduling operations on Appointment: $find (ITI-115) proposes Appointments in
free slots; $hold (ITI-116) holds one through the hold command; $book (ITI-117) books a hold
or a slot directly through the book command. Commands carry Idempotency-Key (and, for a
hold being booked, If-Match) as on the JSON API; the answer is the Appointment read back
from the read model once it has applied the command's position."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, cast
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.params import JSONBody

from api.deps import VERSIONED, Injected, MinPosition, Services
from api.fhir.directory_resources import proposed
from api.fhir.parameters import parameters, proposal
from api.fhir.replies import reply
from api.fhir.resources import BASE, FHIR_JSON, POSITION_HEADER, Json, appointment, searchset
from api.fhir.search import SearchRequest, instant, parse_search, reference
from api.problems import ReadModelBehindError
from api.read_audit import audits_reads
from commands.appointments.messages import BookAppointment, HoldAppointment
from commands.context import CommandContext
from commands.ports import Clock
from commands.structs import CommandResult
from domain.actor import Actor, Role
from domain.errors import ValidationError
from projections.directory import DirectoryQueries, SlotSearch
from projections.scheduling import SchedulingProjection

FIND_PARAMS = (
    "start",
    "end",
    "practitioner",
    "specialty",
    "service-type",
    "visit-type",  # IHE's name for the kind of visit: here the same appointment type
    "location",
    "patient",
)
DEFAULT_RANGE = timedelta(days=14)
MAX_RANGE = timedelta(days=62)  # as the JSON API's availability
Modality = Literal["in_person", "video", "phone"]
MODALITIES = ("in_person", "video", "phone")


def _modality(code: str | None) -> Modality | None:
    if code is None:
        return None
    if code not in MODALITIES:
        raise ValidationError(f"unknown appointment type {code}")
    return cast(Modality, code)


def find_request(
    request: Request[Any, Any, Any], given: dict[str, list[Any]], cap: int
) -> SearchRequest:
    texts = {name: [str(v) for v in values] for name, values in given.items()}
    return parse_search(request, texts, FIND_PARAMS, cap, "$find")


def find_slots(
    search: SearchRequest, actor: Actor, now: datetime
) -> tuple[SlotSearch, UUID | None]:
    start = search.first("start")
    end = search.first("end")
    first = now if start is None else instant(start, "start")
    last = first + DEFAULT_RANGE if end is None else instant(end, "end")
    if last <= first or last - first > MAX_RANGE:
        raise ValidationError(f"end must be after start and within {MAX_RANGE.days} days")
    practitioner = search.first("practitioner")
    patient = search.first("patient")
    patient_id = None if patient is None else reference(patient, "Patient")
    if actor.role is Role.PATIENT:
        patient_id = actor.subject
    wanted = SlotSearch(
        provider_id=None if practitioner is None else reference(practitioner, "Practitioner"),
        start_from=first,
        start_to=last,
        fhir_statuses=("free",),
        appointment_type=_modality(search.first("service-type") or search.first("visit-type")),
        specialty=search.first("specialty"),
        location=search.first("location"),
        bookable_after=now,
        limit=search.count,
        offset=search.offset,
    )
    return wanted, patient_id


class AppointmentOperations(Controller):
    path = "/Appointment"
    include_in_schema = False

    @audits_reads("Appointment", action="query")
    @get("/$find", media_type=FHIR_JSON, sync_to_thread=True)
    def find_by_get(
        self,
        request: Request[Any, Any, Any],
        directory: Injected[DirectoryQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
    ) -> Response[Json]:
        given: dict[str, list[Any]] = {
            k: list(request.query_params.getall(k)) for k in request.query_params
        }
        return _find(request, directory, clock, actor, find_request(request, given, page_cap))

    @audits_reads("Appointment", action="query")
    @post("/$find", status_code=200, media_type=FHIR_JSON, sync_to_thread=True)
    def find_by_post(
        self,
        request: Request[Any, Any, Any],
        directory: Injected[DirectoryQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
        data: JSONBody[Any],
    ) -> Response[Json]:
        search = find_request(request, parameters(data), page_cap)
        return _find(request, directory, clock, actor, search)

    @post("/$hold", status_code=200, media_type=FHIR_JSON)
    async def hold(
        self,
        request: Request[Any, Any, Any],
        services: Injected[Services],
        context: Injected[CommandContext],
        data: JSONBody[Any],
    ) -> Response[Json]:
        wanted = proposal(parameters(data))
        if wanted.slot_id is None or wanted.appointment_id is not None:
            raise ValidationError("to hold, send a proposed Appointment naming its slot")
        cmd = HoldAppointment(
            slot_id=wanted.slot_id,
            appointment_type=_modality(wanted.appointment_type) or "in_person",
            patient_id=wanted.patient_id,
        )
        result = await sync_to_thread(services.scheduling.hold, cmd, context)
        return await _read_back(services, result)

    @post("/$book", status_code=200, media_type=FHIR_JSON, dependencies=VERSIONED)
    async def book(
        self,
        request: Request[Any, Any, Any],
        services: Injected[Services],
        context: Injected[CommandContext],
        data: JSONBody[Any],
    ) -> Response[Json]:
        """A held Appointment (its id; If-Match W/"n" honoured) or a proposed one (its slot)."""
        wanted = proposal(parameters(data))
        if wanted.appointment_id is not None:
            cmd = BookAppointment(appointment_id=wanted.appointment_id)
        elif wanted.slot_id is not None:
            cmd = BookAppointment(
                slot_id=wanted.slot_id,
                patient_id=wanted.patient_id,
                appointment_type=_modality(wanted.appointment_type) or "in_person",
            )
        else:
            raise ValidationError("to book, send a held Appointment's id or a slot")
        result = await sync_to_thread(services.scheduling.book, cmd, context)
        return await _read_back(services, result)


def _find(
    request: Request[Any, Any, Any],
    directory: DirectoryQueries,
    clock: Clock,
    actor: Actor,
    search: SearchRequest,
) -> Response[Json]:
    now = clock.now()
    wanted, patient_id = find_slots(search, actor, now)
    page = directory.slots(wanted, now)
    found = [
        proposed(
            s, wanted.appointment_type or (s.appointment_types or MODALITIES)[0], patient_id, now
        )
        for s in page.items
    ]
    total = page.total if page.total is not None else len(found)
    return reply(request, actor, searchset(found, total, search.links(page.next_offset)))


async def _read_back(services: Services, result: CommandResult) -> Response[Json]:
    """The Appointment the command wrote, once the read model has applied it (503 with
    Retry-After if not in time: a retry with the same Idempotency-Key answers the same)."""
    name = SchedulingProjection.name
    if not await services.positions.wait_for(name, result.position, services.read_wait_seconds):
        raise ReadModelBehindError(f"the appointment is at position {result.position}; retry")
    view = await sync_to_thread(services.queries.appointment, result.id)
    if view is None:  # pragma: no cover - the position covers the command's events
        raise ReadModelBehindError("the appointment is not readable yet; retry")
    headers = {
        "ETag": f'W/"{view.version}"',
        "Location": f"{BASE}/Appointment/{view.id}",
        POSITION_HEADER: str(result.position),  # read your writes: a read's min_position
    }
    return Response(appointment(view), media_type=FHIR_JSON, headers=headers)
