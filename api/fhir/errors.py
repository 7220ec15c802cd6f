"""Every FHIR error is an OperationOutcome: the JSON API's handler for the error decides the
status (and Retry-After), as it would for /v1, and its problem's detail becomes the issue."""

from __future__ import annotations

from inspect import getmro
from typing import Any

import msgspec
from litestar import Request, Response

from api.fhir.resources import FHIR_JSON, Json, operation_outcome
from api.fhir.search import UnsupportedParameterError

ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict"}
ISSUE_CODES |= {412: "conflict", 422: "invalid", 429: "throttled", 503: "transient"}


def fhir_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Json]:
    # The app's own table (with the storage outage handlers the app factory adds) picks the
    # handler the JSON API would use; this layer only changes the body it answers.
    table = request.app.exception_handlers
    handler = next(table[t] for t in getmro(type(exc)) if t in table)
    answer = handler(request, exc)
    problem = msgspec.to_builtins(answer.content)
    status = int(answer.status_code or 500)
    code = ISSUE_CODES.get(status, "exception")
    if isinstance(exc, UnsupportedParameterError):
        code = "not-supported"
    body = operation_outcome(status, code, problem["detail"])
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)
