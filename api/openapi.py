"""How each route appears in the OpenAPI document: a readable operation id and every status it
can answer, each error as the one RFC 9457 problem schema under application/problem+json.

A route declares what its own logic can refuse (`documented("cancelAppointment", *COMMAND)`);
what every route can answer, and what a route's dependencies imply (412 where If-Match is read,
422 and 503 where a read waits for a log position, 413 where there is a body), is added here.
The words describing each status come from the problem table in api/problems.py."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter

from api.problems import (
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    RETRY_AFTER_STATUSES,
    Problem,
    problem_types,
)

# Every /v1 route: a malformed request, a missing or bad token, the rate limit, our own fault,
# the database briefly away.
EVERY_ROUTE = (400, 401, 429, 500, 503)
# A command may be refused for the caller's role, an unknown id, a conflict or a broken rule.
COMMAND = (403, 404, 409, 422)
# A command that creates, naming no existing aggregate of its own.
REGISTRATION = (403, 409, 422)
# A query may be refused for a parameter that breaks a rule (a period too long, a naive time).
QUERY = (422,)
GUARDED = (403,)
FOUND_OR_NOT = (404,)

_IMPLIED_BY_HEADER = {"If-Match": (412,), "X-Min-Position": (422, 503)}
_BODY_TOO_LARGE = 413


def describe(status: int) -> str:
    kinds = ", ".join(f"`{slug}` ({title})" for slug, title in problem_types(status))
    return f"{HTTPStatus(status).phrase}. Problem types under {PROBLEM_BASE}: {kinds}."


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=describe(status),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }


RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
    description="Seconds to wait before retrying.",
    required=True,
)


@dataclass
class ProblemOperation(Operation):
    """An operation that documents the statuses its route's dependencies imply."""

    def __post_init__(self) -> None:
        responses = dict(self.responses or {})
        problem = responses["400"]  # every route declares it; its content is the problem schema
        assert isinstance(problem, OpenAPIResponse)  # noqa: S101 - built by problem_responses
        headers = {
            p.name
            for p in self.parameters or ()
            if isinstance(p, OpenAPIParameter) and p.param_in == "header"
        }
        implied = [
            s for name, found in _IMPLIED_BY_HEADER.items() if name in headers for s in found
        ]
        if self.request_body is not None:
            implied.append(_BODY_TOO_LARGE)
        for status in implied:
            responses.setdefault(
                str(status), OpenAPIResponse(description=describe(status), content=problem.content)
            )
        for status in RETRY_AFTER_STATUSES:
            response = responses.get(str(status))
            if isinstance(response, OpenAPIResponse):
                response.headers = {"Retry-After": RETRY_AFTER}
        self.responses = dict(sorted(responses.items()))


def documented(operation_id: str, *statuses: int) -> dict[str, Any]:
    """The route decorator's arguments that document it: its operation id (camelCase verbNoun)
    and the problems it can answer besides those every route can."""
    return {
        "operation_id": operation_id,
        "responses": problem_responses(*EVERY_ROUTE, *statuses),
        "operation_class": ProblemOperation,
    }
