"""The facade's one Router at /fhir/r4: its routes, the directory queries they read, and
OperationOutcome for every error, storage outages included (their types come from the app
factory, which alone may name infra's exceptions)."""

from __future__ import annotations

from collections.abc import Sequence

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
from api.fhir.errors import fhir_error
from api.fhir.operations import AppointmentOperations
from api.fhir.resources import BASE, FHIR_JSON, Json
from api.problems import EXCEPTION_HANDLERS
from commands.ports import Clock
from projections.directory import DirectoryQueries


@get("/metadata", media_type=FHIR_JSON, sync_to_thread=False, include_in_schema=False)
def metadata(clock: Injected[Clock]) -> Json:
    return capability_statement(clock.now())


def provide_directory(services: Injected[Services]) -> DirectoryQueries:
    if services.directory is None:  # pragma: no cover - the app factory wires it
        raise TypeError("the FHIR facade needs the directory queries")
    return services.directory


def fhir_router(storage_errors: Sequence[type[Exception]] = ()) -> Router:
    """The facade; `storage_errors` are the exception types the app answers 503 for."""
    handled = [*EXCEPTION_HANDLERS, *storage_errors]
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
        exception_handlers=dict.fromkeys(handled, fhir_error),
        tags=["fhir"],
    )
