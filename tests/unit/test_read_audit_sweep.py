"""The sweep the issue asks for: every GET route in the OpenAPI document whose answer can name
a patient (a `patient_id` or `patient_ids` anywhere in its 200 schema, or a patient id in its
path) writes an access record
when called, with the patients it returned; and every route marked as auditing reads is such a
route."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from api.read_audit import MARK
from domain.actor import Role
from projections.audit.trail import (
    AccessQuery,
    AnomalyReport,
    EventQuery,
    Explanation,
    Order,
    Thresholds,
)
from projections.queries import Page, ProviderSchedule, ScheduleSummary
from tests.builders import in_memory_app
from tests.fakes import (
    FixedClock,
    FixedPositions,
    ListedVideoVisits,
    MemoryAccessLog,
    RecordingSearch,
    StillAnalytics,
)
from tests.unit.test_api_edges import bearer, settings
from tests.unit.test_fhir import ALL, BOOKED, PATIENT, PROVIDER, Rows

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


class ScheduleRows(Rows):
    def schedule(
        self, provider_id: uuid.UUID, first_day: date, last_day: date, now: datetime
    ) -> ProviderSchedule | None:
        return ProviderSchedule(
            provider_id=provider_id,
            time_zone="UTC",
            first_day=first_day,
            last_day=last_day,
            slots=[],
            appointments=[v for v in ALL if v.provider_id == provider_id],
            summary=ScheduleSummary(total=0, free=0, booked=0, blocked=0, cancelled=0),
        )


class EmptyTrail:
    """An AuditTrail with nothing in it (the routes' records are what this sweep checks)."""

    def events(self, wanted: EventQuery) -> Page[Any]:
        return Page(items=[], limit=wanted.limit, offset=wanted.offset, next_offset=None)

    def accesses(self, wanted: AccessQuery) -> Page[Any]:
        return Page(items=[], limit=wanted.limit, offset=wanted.offset, next_offset=None)

    def patient_trail(
        self, patient_id: uuid.UUID, start: Any, end: Any, order: Order, limit: int, offset: int
    ) -> Page[Any]:
        return Page(items=[], limit=limit, offset=offset, next_offset=None)

    def explain(self, correlation_id: uuid.UUID) -> Explanation | None:
        return None

    def anomalies(self, start: datetime, end: datetime, limits: Thresholds) -> AnomalyReport:
        return AnomalyReport(
            start=start,
            end=end,
            threshold=limits.default,
            role_thresholds=dict(limits.by_role),
            heavy_readers=[],
            outside_care=[],
        )


@pytest.fixture
def access_log() -> MemoryAccessLog:
    return MemoryAccessLog()


@pytest.fixture
def client(access_log: MemoryAccessLog) -> Iterator[TestClient[Any]]:
    clock = FixedClock(NOW)
    services = Services(
        scheduling=in_memory_app(clock),
        queries=ScheduleRows(),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=clock,
        read_wait_seconds=0.01,
        max_page_size=50,
        access=access_log,
        trail=EmptyTrail(),
        video_queries=ListedVideoVisits((BOOKED.id, BOOKED.patient_id, BOOKED.provider_id)),
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def _names(schema: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                found |= _names(components.get(name, {}), components, seen)
        found |= set(schema.get("properties", {}))
        for value in schema.values():
            found |= _names(value, components, seen)
    elif isinstance(schema, list):
        for value in schema:
            found |= _names(value, components, seen)
    return found


def patient_routes(document: dict[str, Any]) -> list[str]:
    components = document.get("components", {}).get("schemas", {})
    routes = []
    for path, operations in document["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        names_one = {"patient_id", "patient_ids"} & _names(answer, components, set())
        if operations.get("get") and (names_one or "{patient_id}" in path):
            routes.append(path)
    return sorted(routes)


VALUES = {
    "appointment_id": str(BOOKED.id),
    "provider_id": str(PROVIDER),
    "patient_id": str(PATIENT),
    "correlation_id": str(uuid.uuid4()),
    "series_id": str(uuid.uuid4()),
    "entry_id": str(uuid.uuid4()),
}
REQUIRED = {
    "/v1/providers/{provider_id}/schedule": {"day": "2030-01-08"},
    "/v1/search/notes": {"q": "x"},
}


def test_every_get_route_returning_patient_data_writes_an_access_record(
    client: TestClient[Any], access_log: MemoryAccessLog
) -> None:
    routes = patient_routes(client.get("/schema/openapi.json").json())
    assert len(routes) >= 11, routes  # appointments (4), schedule, notes, video (2), audit
    assert {"/v1/appointments/{appointment_id}/video", "/v1/video/no-show-candidates"} <= set(
        routes
    )
    for route in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], route)
        role = Role.AUDITOR if route.startswith("/v1/audit/") else Role.STAFF
        access_log.records.clear()
        answer = client.get(path, params=REQUIRED.get(route, {}), headers=bearer(role))
        assert len(access_log.records) == 1, route
        record = access_log.records[0]
        assert record.route == route
        assert record.outcome == answer.status_code
        returned = answer.text
        for patient in record.patient_ids:
            assert str(patient) in returned or str(patient) in path
        if answer.status_code == 200 and str(PATIENT) in returned:
            assert PATIENT in record.patient_ids, route
        if "video" in route:  # answered from the video read model, naming its patient
            assert answer.status_code == 200, route
            assert record.patient_ids == [PATIENT], route
            assert record.resource_ids == [BOOKED.id], route


def test_only_routes_that_can_name_a_patient_are_marked(client: TestClient[Any]) -> None:
    app = client.app
    marked = sorted(
        re.sub(r":\w+\}", "}", route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if MARK in handler.opt and "/fhir/" not in route.path
    )
    document = client.get("/schema/openapi.json").json()
    assert marked == patient_routes(document)
