"""How every FHIR read and search answers: one function, so one place sees each resource
read through the facade (the read audit's hook goes here)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from api.fhir.resources import FHIR_JSON, Json
from domain.actor import Actor


def reply(
    request: Request[Any, Any, Any], actor: Actor, body: Json, version: int | None = None
) -> Response[Json]:
    """`body` is the resource read (ETag W/"version") or the searchset Bundle found."""
    # READ AUDIT HOOK: every FHIR read and search (Appointment, Practitioner,
    # PractitionerRole, Schedule, Slot, Patient, and $find's proposals) passes here once,
    # with the caller (`actor`), the route (`request`) and what it is answered (`body`:
    # one resource, or a Bundle whose entries are the resources). Call the read audit here.
    headers = {} if version is None else {"ETag": f'W/"{version}"'}
    return Response(body, media_type=FHIR_JSON, headers=headers)
