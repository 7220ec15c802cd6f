"""The facade's one Router at /fhir/r4: its routes and the directory queries they read.
Its errors are OperationOutcomes through the app's handlers (api/fhir/errors.py)."""

from __future__ import annotations

from litestar import Router, get
from litestar.di import Provide

from api.deps import Injected, Services
from api.fhir.capability import capability_statement
from api.fhir.controller import AppointmentResource
from api.fhir.directory_routes import (
    PROVIDER_RESOURCES,
    PatientResource,
    SlotResource,
    provider_resource,
)
from api.fhir.operations import AppointmentOperations
from api.fhir.resources import BASE, FHIR_JSON, Json
from commands.ports import Clock
from projections.directory import DirectoryQueries


@get("/metadata", media_type=FHIR_JSON, sync_to_thread=False, include_in_schema=False)
def metadata(clock: Injected[Clock]) -> Json:
    return capability_statement(clock.now())


def provide_directory(services: Injected[Services]) -> DirectoryQueries:
    if services.directory is None:  # pragma: no cover - the app factory wires it
        raise TypeError("the FHIR facade needs the directory queries")
    return services.directory


def fhir_router() -> Router:
    return Router(
        path=BASE,
        route_handlers=[
            metadata,
            AppointmentOperations,
            AppointmentResource,
            *(provider_resource(kind) for kind in PROVIDER_RESOURCES),
            PatientResource,
            SlotResource,
        ],
        dependencies={"directory": Provide(provide_directory, sync_to_thread=False)},
        tags=["fhir"],
    )
