"""FHIR read and search of Practitioner, PractitionerRole, Schedule (each one per provider),
Patient and Slot, through the directory queries over the scheduling read model. Providers,
their schedules and slots are open to every signed-in caller, as on the JSON API; a patient
record to that patient and to staff only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from api.deps import Injected, MinPosition
from api.fhir.directory_resources import (
    patient,
    practitioner,
    practitioner_role,
    schedule,
    slot,
)
from api.fhir.replies import reply
from api.fhir.resources import FHIR_JSON, Json, searchset
from api.fhir.search import (
    SearchRequest,
    date_range,
    ids,
    reference,
    resource_id,
    search_request,
)
from api.read_audit import audits_reads
from commands.ports import Clock
from domain.actor import Actor, Role
from domain.errors import ForbiddenError, NotFoundError, ValidationError
from domain.fhir_status import SLOT_STATUSES
from projections.directory import (
    DirectoryFilter,
    DirectoryQueries,
    PatientView,
    ProviderView,
    SlotSearch,
    may_see_patient,
)
from projections.queries import Page

PROVIDER_RESOURCES: dict[str, Callable[[ProviderView], Json]] = {
    "Practitioner": practitioner,
    "PractitionerRole": practitioner_role,
    "Schedule": schedule,
}
# The reference parameter of each that names the provider, and what it may refer to.
PROVIDER_REFERENCES = {
    "PractitionerRole": ("practitioner", ("Practitioner",)),
    "Schedule": ("actor", ("Practitioner", "PractitionerRole")),
}


def token(value: str) -> str:
    """A token's code, with or without its `system|`."""
    return value.rpartition("|")[2]


def provider_filter(kind: str, search: SearchRequest) -> DirectoryFilter:
    wanted = list(ids(search.all("_id"), kind))
    if kind in PROVIDER_REFERENCES:
        name, kinds = PROVIDER_REFERENCES[kind]
        wanted += [reference(v, *kinds) for v in search.all(name)]
    specialty = search.first("specialty")
    return DirectoryFilter(
        ids=tuple(wanted),
        name=search.first("name"),
        specialty=None if specialty is None else token(specialty),
        limit=search.count,
        offset=search.offset,
    )


def slot_search(search: SearchRequest) -> SlotSearch:
    schedule_ref = search.first("schedule")
    start_from, start_to = date_range(search.all("start"), "start")
    statuses = search.all("status")
    unknown = [s for s in statuses if s not in SLOT_STATUSES]
    if unknown:
        raise ValidationError(f"unknown Slot status {unknown[0]}")
    kind = search.first("service-type")
    return SlotSearch(
        provider_id=None if schedule_ref is None else reference(schedule_ref, "Schedule"),
        start_from=start_from,
        start_to=start_to,
        fhir_statuses=tuple(statuses),
        appointment_type=None if kind is None else token(kind),
        limit=search.count,
        offset=search.offset,
    )


def bundle(search: SearchRequest, page: Page[Any], render: Callable[[Any], Json]) -> Json:
    total = page.total if page.total is not None else len(page.items)
    return searchset([render(v) for v in page.items], total, search.links(page.next_offset))


def read_provider(
    request: Request[Any, Any, Any],
    directory: DirectoryQueries,
    actor: Actor,
    kind: str,
    raw_id: str,
) -> Response[Json]:
    found = directory.provider(resource_id(raw_id, kind))
    if found is None:
        raise NotFoundError(f"{kind} {raw_id} not found")
    return reply(request, actor, PROVIDER_RESOURCES[kind](found), found.version)


def search_providers(
    request: Request[Any, Any, Any], directory: DirectoryQueries, actor: Actor, kind: str, cap: int
) -> Response[Json]:
    search = search_request(request, kind, cap)
    page = directory.providers(provider_filter(kind, search))
    return reply(request, actor, bundle(search, page, PROVIDER_RESOURCES[kind]))


def patients_of(actor: Actor, wanted: DirectoryFilter) -> DirectoryFilter | None:
    """Staff search every patient, a patient their own record (None: nothing to find)."""
    if actor.role is Role.STAFF:
        return wanted
    if actor.role is not Role.PATIENT:
        raise ForbiddenError("only staff and patients may search patients")
    if wanted.ids and actor.subject not in wanted.ids:
        return None
    return replace(wanted, ids=(actor.subject,))


def provider_resource(kind: str) -> type[Controller]:
    """Practitioner, PractitionerRole and Schedule: each one per provider, read alike."""

    class ProviderResource(Controller):
        path = f"/{kind}"
        include_in_schema = False

        @get("/{resource_id:str}", media_type=FHIR_JSON, sync_to_thread=True)
        def read(
            self,
            request: Request[Any, Any, Any],
            directory: Injected[DirectoryQueries],
            actor: Injected[Actor],
            position: Injected[MinPosition],
            resource_id: FromPath[str],
        ) -> Response[Json]:
            return read_provider(request, directory, actor, kind, resource_id)

        @get("/", media_type=FHIR_JSON, sync_to_thread=True)
        def search(
            self,
            request: Request[Any, Any, Any],
            directory: Injected[DirectoryQueries],
            actor: Injected[Actor],
            position: Injected[MinPosition],
            page_cap: Injected[int],
        ) -> Response[Json]:
            return search_providers(request, directory, actor, kind, page_cap)

    ProviderResource.__name__ = f"{kind}Resource"
    return ProviderResource


class PatientResource(Controller):
    path = "/Patient"
    include_in_schema = False

    @audits_reads("Patient", action="read")
    @get("/{patient_id:str}", media_type=FHIR_JSON, sync_to_thread=True)
    def read(
        self,
        request: Request[Any, Any, Any],
        directory: Injected[DirectoryQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        patient_id: FromPath[str],
    ) -> Response[Json]:
        wanted = resource_id(patient_id, "Patient")
        found = directory.patient(wanted) if may_see_patient(actor, wanted) else None
        if found is None:
            raise NotFoundError(f"Patient {patient_id} not found")
        return reply(request, actor, patient(found), found.version)

    @audits_reads("Patient", action="query")
    @get("/", media_type=FHIR_JSON, sync_to_thread=True)
    def search(
        self,
        request: Request[Any, Any, Any],
        directory: Injected[DirectoryQueries],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
    ) -> Response[Json]:
        search = search_request(request, "Patient", page_cap)
        asked = DirectoryFilter(
            ids=ids(search.all("_id"), "Patient"),
            name=search.first("name"),
            limit=search.count,
            offset=search.offset,
        )
        wanted = patients_of(actor, asked)
        page: Page[PatientView] = (
            Page(items=[], limit=search.count, offset=search.offset, next_offset=None, total=0)
            if wanted is None
            else directory.patients(wanted)
        )
        return reply(request, actor, bundle(search, page, patient))


class SlotResource(Controller):
    path = "/Slot"
    include_in_schema = False

    @get("/{slot_id:str}", media_type=FHIR_JSON, sync_to_thread=True)
    def read(
        self,
        request: Request[Any, Any, Any],
        directory: Injected[DirectoryQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        slot_id: FromPath[str],
    ) -> Response[Json]:
        found = directory.slot(resource_id(slot_id, "Slot"), clock.now())
        if found is None:
            raise NotFoundError(f"Slot {slot_id} not found")
        return reply(request, actor, slot(found), found.version)

    @get("/", media_type=FHIR_JSON, sync_to_thread=True)
    def search(
        self,
        request: Request[Any, Any, Any],
        directory: Injected[DirectoryQueries],
        clock: Injected[Clock],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
    ) -> Response[Json]:
        search = search_request(request, "Slot", page_cap)
        page = directory.slots(slot_search(search), clock.now())
        return reply(request, actor, bundle(search, page, slot))
