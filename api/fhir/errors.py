"""Every error on a FHIR path is an OperationOutcome: the JSON API's handler for the error
decides the status (and Retry-After), as it would for /v1, and its problem's detail becomes
the issue. The app factory wraps each of its handlers with `outcome_on_fhir_paths`, so routing
errors (an unknown path, a method not allowed) and storage outages are covered too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response

from api.fhir.resources import BASE, FHIR_JSON, operation_outcome
from api.fhir.search import UnsupportedParameterError

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
}
ISSUE_CODES |= {409: "conflict", 412: "conflict", 422: "invalid", 429: "throttled"}
ISSUE_CODES |= {503: "transient"}

Handler = Callable[[Request[Any, Any, Any], Exception], Response[Any]]


def outcome_on_fhir_paths(handler: Handler) -> Handler:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        answer = handler(request, exc)
        if not request.url.path.startswith(f"{BASE}/"):
            return answer
        problem = msgspec.to_builtins(answer.content)
        status = int(answer.status_code or 500)
        code = ISSUE_CODES.get(status, "exception")
        if isinstance(exc, UnsupportedParameterError):
            code = "not-supported"
        body = operation_outcome(status, code, problem["detail"])
        headers = {k: v for k, v in answer.headers.items() if k.lower() in ("retry-after", "allow")}
        return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)

    return handle
