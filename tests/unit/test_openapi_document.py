"""The OpenAPI document tells a client the truth: readable operation ids, every error as the one
RFC 9457 problem schema, and the headers each route honours and returns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.app import create_app
from infra.settings import Settings

METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM_REF = "#/components/schemas/Problem"
COMMANDS_HONOURING_IF_MATCH = {
    "confirmAppointment",
    "checkInAppointment",
    "startAppointment",
    "completeAppointment",
    "cancelAppointment",
    "rescheduleAppointment",
    "markNoShow",
    "revertNoShow",
    "expireHold",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Settings.from_env({"SLOTWISE_MODE": "test"}))
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def header_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_operation_has_a_unique_camel_case_verb_noun_id(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", operation_id), operation_id
    assert {"bookAppointment", "cancelAppointment", "listAppointments"} <= set(ids)


def test_every_error_response_is_the_problem_schema_as_problem_json(
    document: dict[str, Any],
) -> None:
    for method, path, op in operations(document):
        errors = {status: r for status, r in op["responses"].items() if int(status) >= 400}
        # 503: the database briefly away (and, where a read waits, the read model behind).
        assert {"400", "401", "429", "500", "503"} <= errors.keys(), (method, path)
        for status, response in errors.items():
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": PROBLEM_REF}}
            }, (method, path, status)
            assert response["description"], (method, path, status)
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}


def test_what_a_route_reads_implies_what_it_can_answer(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        statuses = op["responses"].keys()
        headers = header_names(op)
        assert ("If-Match" in headers) == ("412" in statuses), (method, path)
        if "X-Min-Position" in headers:  # a position beyond the log's head
            assert "422" in statuses, (method, path)
            assert "position-beyond-head" in op["responses"]["422"]["description"]
        assert ("requestBody" in op) == ("413" in statuses), (method, path)
        for status in ("429", "503"):
            if status in statuses:
                assert "Retry-After" in op["responses"][status]["headers"], (method, path)


# POSTs that record nothing a retry could repeat: a join token is minted afresh for each request,
# and a provider's webhook is deduplicated by the provider's own event id.
POSTS_THAT_ARE_NOT_COMMANDS = {"joinVideoVisit", "receiveVideoWebhook"}
# Notifications (issue 10): marking inbox messages read is idempotent by itself (a read stays
# read), and Twilio's webhooks are deduplicated by (message SID, status) or record nothing twice.
POSTS_THAT_ARE_NOT_COMMANDS |= {
    "markInboxRead",
    "markAllInboxRead",
    "receiveTwilioStatus",
    "receiveTwilioInbound",
    # a staff notice: a repeat is a second notice, bounded by the per-provider rate limit
    "sendBulkNotice",
}


def test_commands_document_idempotency_and_if_match_where_it_is_honoured(
    document: dict[str, Any],
) -> None:
    commands = [
        (path, op)
        for method, path, op in operations(document)
        if method == "post" and op["operationId"] not in POSTS_THAT_ARE_NOT_COMMANDS
    ]
    assert commands
    for path, op in commands:
        assert "Idempotency-Key" in header_names(op), path
        assert ("If-Match" in header_names(op)) == (
            op["operationId"] in COMMANDS_HONOURING_IF_MATCH
        ), path
        assert {"403", "409", "422"} <= op["responses"].keys(), path


def test_reads_document_their_read_your_writes_position(document: dict[str, Any]) -> None:
    # The audit proofs are over the sealed log, not a read model: each answer names its size.
    reads = [
        (path, op)
        for method, path, op in operations(document)
        if method == "get" and not path.startswith("/v1/audit/")
    ]
    assert reads
    for path, op in reads:
        query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert "min_position" in query, path
        assert "X-Min-Position" in header_names(op), path


def test_reading_an_appointment_documents_its_etag(document: dict[str, Any]) -> None:
    found = document["paths"]["/v1/appointments/{appointment_id}"]["get"]
    assert found["operationId"] == "getAppointment"
    assert "ETag" in found["responses"]["200"]["headers"]
    assert "404" in found["responses"]


def test_every_request_body_is_documented_closed_as_the_api_refuses_unknown_fields(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for _, _, op in operations(document)
        # Twilio's form posts (issue 10) are the vendor's, open by nature
        if "requestBody" in op and "application/json" in op["requestBody"]["content"]
    ]
    assert len(bodies) > 10
    for name in [*bodies, "WorkingSession", "ProviderProfile", "PatientDetails"]:
        assert schemas[name]["additionalProperties"] is False, name
    # The schema is the command's own, with its bounds (the DTO's copy dropped list lengths).
    sessions = schemas["GenerateSlots"]["properties"]["sessions"]
    assert (sessions["minItems"], sessions["maxItems"]) == (1, 100)
    # Answers stay open: a client must tolerate new fields.
    assert "additionalProperties" not in schemas["CommandResult"]


def test_a_time_of_day_is_documented_as_one_not_as_a_duration(document: dict[str, Any]) -> None:
    start = document["components"]["schemas"]["WorkingSession"]["properties"]["start"]
    assert "format" not in start
    assert re.fullmatch(start["pattern"], "09:30:00")
    assert not re.fullmatch(start["pattern"], "PT9H30M")


def test_every_paged_read_documents_its_offset_bound(document: dict[str, Any]) -> None:
    paged = 0
    for method, path, op in operations(document):
        for parameter in op.get("parameters", []):
            if parameter["name"] == "offset":
                paged += 1
                assert parameter["schema"]["minimum"] == 0, (method, path)
                assert parameter["schema"]["maximum"] == 10_000, (method, path)
    assert paged >= 6


def test_header_values_are_documented_as_the_api_checks_them(document: dict[str, Any]) -> None:
    cancel = document["paths"]["/v1/appointments/{appointment_id}/cancel"]["post"]
    headers = {p["name"]: p["schema"] for p in cancel["parameters"] if p["in"] == "header"}
    assert headers["X-Correlation-ID"]["format"] == "uuid"
    assert headers["X-Causation-ID"]["format"] == "uuid"
    assert headers["Idempotency-Key"]["minLength"] == 1
    assert re.fullmatch(headers["If-Match"]["pattern"], 'W/"3"')
    assert not re.fullmatch(headers["If-Match"]["pattern"], "three")
