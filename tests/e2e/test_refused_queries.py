"""Client mistakes in query parameters answer a 4xx problem naming the parameter, never a 500,
and store nothing: datetimes at the ends of the calendar, offsets past PostgreSQL's bigint,
control characters in search text; OPTIONS on every route; and analytics answers that keep to
their documented schema once there is data (issue 8 §3)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis

from commands.scheduling import Scheduling
from domain.actor import Role
from infra.postgres.database import Database, eventstore_env
from tests.conftest import Stack, auth, utcnow
from tests.scenario import ok, patient, provider, slot

STAFF = auth(Role.STAFF)
ANALYST = auth(Role.ANALYST)
NO_SHOWS_AT_YEAR_ONE = "from=0001-01-01T00:00:00%2B01:00&to=0001-01-02T00:00:00%2B01:00"
ANALYTICS_AT_YEAR_9999 = "from=9999-12-30T00:00:00-05:00&to=9999-12-31T23:00:00-05:00"

REFUSED = {
    "a from before year 1 in UTC": ("/v1/appointments?from=0001-01-01T00:14:33.86%2B02:06", "from"),
    "a from past year 9999 in UTC": ("/v1/slots/available?from=9999-12-31T23:00:00-05:00", "from"),
    "a report from year 1": (f"/v1/reports/no-shows?{NO_SHOWS_AT_YEAR_ONE}", "from"),
    "an analytics period in year 9999": (
        f"/v1/analytics/utilization?{ANALYTICS_AT_YEAR_9999}",
        "from",
    ),
    "a to past the supported range": ("/v1/appointments?to=2999-01-01T00:00:00Z", "to"),
    "an offset past bigint": ("/v1/appointments/upcoming?offset=9999999999999999999", "offset"),
    "an offset past bigint in history": (
        "/v1/appointments/history?offset=9999999999999999999",
        "offset",
    ),
    "an offset past bigint in slots": ("/v1/slots/available?offset=9999999999999999999", "offset"),
    "a NUL in a search location": ("/v1/search/slots?location=Ward%00B", "location"),
    "a control character in a provider search": ("/v1/search/providers?q=Ada%1B", "q"),
    "a NUL in an autocomplete prefix": ("/v1/search/autocomplete?prefix=Ad%00", "prefix"),
}


def log_head(database: Database) -> int:
    app = Scheduling(eventstore_env(database, 1))
    try:
        return app.head_position()
    finally:
        app.close()


def named_in(problem: dict[str, Any], parameter: str) -> bool:
    """The problem names the parameter, in its detail or in its list of parameter errors."""
    keys = {str(error.get("key")) for error in problem.get("errors") or ()}
    return parameter in problem["detail"] or parameter in keys


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_query_parameter_out_of_range_is_a_problem_naming_it_and_stores_nothing(
    client: httpx.Client, database: Database, case: str
) -> None:
    path, parameter = REFUSED[case]
    before = log_head(database)

    response = client.get(path, headers=STAFF)

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert named_in(problem, parameter), problem
    assert log_head(database) == before


@pytest.fixture(scope="module")
def openapi(stack: Stack) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{stack.base_url}/schema/openapi.json").json()
    return document


def test_options_on_the_guarded_reports_and_analytics_answers_the_allowed_methods(
    client: httpx.Client,
) -> None:
    for path in ("/v1/analytics/appointments", "/v1/analytics/utilization", "/v1/reports/no-shows"):
        response = client.options(path)

        assert response.status_code == 204, (path, response.text)
        assert "GET" in response.headers["allow"], path


def test_options_never_answers_a_server_error_on_any_documented_route(
    client: httpx.Client, openapi: dict[str, Any]
) -> None:
    unknown_id = "00000000-0000-4000-8000-000000000000"
    paths = [re.sub(r"\{[^}]+\}", unknown_id, path) for path in openapi["paths"]]
    assert len(paths) > 20
    for path in paths:
        for headers in ({}, STAFF, auth(Role.PATIENT)):
            response = client.options(path, headers=headers)
            assert response.status_code < 500, (path, response.text)


def test_utilization_with_data_keeps_to_its_documented_schema(
    client: httpx.Client, stack: Stack
) -> None:
    provider_id = provider(client)
    start = utcnow() + timedelta(days=3)
    slot_id = slot(client, provider_id, start, capacity=2)
    _, me = patient(client)
    booked = ok(client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me), 201)
    period = {
        "from": (start - timedelta(hours=1)).isoformat(),
        "to": (start + timedelta(hours=1)).isoformat(),
        "provider_id": str(provider_id),
        "min_position": booked["position"],
    }

    response = client.get("/v1/analytics/utilization", params=period, headers=ANALYST)

    used = ok(response, 200)
    [mine] = used["providers"]
    for figures in (mine["figures"], used["totals"]):
        assert figures["open_slots"] == 1
        assert figures["overbooked_seats"] == 0
        assert type(figures["overbooked_seats"]) is int
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/schema/openapi.json")
    schema["/v1/analytics/utilization"]["GET"].validate_response(response)
