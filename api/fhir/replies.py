"""How every FHIR read and search answers: one function, so one place sees each resource
read through the facade (the read audit's hook goes here)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from api.fhir.resources import FHIR_JSON, Json
from api.read_audit import saw_resources
from domain.actor import Actor


def reply(
    request: Request[Any, Any, Any], actor: Actor, body: Json, version: int | None = None
) -> Response[Json]:
    """`body` is the resource read (ETag W/"version") or the searchset Bundle found."""
    # The read audit: on the routes marked `@audits_reads` (Appointment and Patient reads and
    # searches, $find), the access record names every patient and resource answered.
    saw_resources(request.scope, body)
    headers = {} if version is None else {"ETag": f'W/"{version}"'}
    return Response(body, media_type=FHIR_JSON, headers=headers)
