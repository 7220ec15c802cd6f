"""Issue 14's analytics routes at the HTTP edge, on an empty model: who may read them, and
refusals as problems (the measures themselves are tested on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.actor import Role
from tests.unit.test_api_edges import assert_problem, bearer, make_client

PERIOD = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z"}
SERIES = {"appointment_type": "in_person", "first_day": "2026-11-01", "last_day": "2026-11-07"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with make_client() as c:
        yield c


@pytest.mark.parametrize("path", ["revenue", "performance"])
def test_an_analyst_reads_empty_measures_as_empty(client: TestClient[Any], path: str) -> None:
    answer = client.get(f"/v1/analytics/{path}", params=PERIOD, headers=bearer(Role.ANALYST))
    assert answer.status_code == 200, answer.text
    assert answer.json()["previous_from"] == "2026-10-25T00:00:00Z"


def test_access_defaults_to_now(client: TestClient[Any]) -> None:
    answer = client.get("/v1/analytics/access", headers=bearer(Role.ANALYST))
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"] == []


@pytest.mark.parametrize("path", ["revenue", "performance", "demographics?by=sex"])
def test_patients_may_not_read_analytics(client: TestClient[Any], path: str) -> None:
    answer = client.get(f"/v1/analytics/{path}", params=PERIOD, headers=bearer(Role.PATIENT))
    assert_problem(answer, 403, "forbidden")


def test_a_series_ending_before_it_starts_is_refused(client: TestClient[Any]) -> None:
    params = {**SERIES, "provider_id": str(uuid.uuid4()), "last_day": "2026-10-01"}
    answer = client.get("/v1/analytics/access/series", params=params, headers=bearer(Role.ANALYST))
    assert_problem(answer, 422, "validation-failed")


def test_the_series_of_an_unknown_provider_is_404(client: TestClient[Any]) -> None:
    params = {**SERIES, "provider_id": str(uuid.uuid4())}
    answer = client.get("/v1/analytics/access/series", params=params, headers=bearer(Role.ANALYST))
    assert_problem(answer, 404, "not-found")


def test_a_naive_reference_time_is_refused(client: TestClient[Any]) -> None:
    answer = client.get(
        "/v1/analytics/access", params={"at": "2026-11-01T00:00:00"}, headers=bearer(Role.ANALYST)
    )
    assert answer.status_code in (400, 422), answer.text


@pytest.mark.parametrize("days", ["0", "731", "x"])
def test_a_retention_window_out_of_range_is_refused(client: TestClient[Any], days: str) -> None:
    params = {**PERIOD, "retention_days": days}
    answer = client.get("/v1/analytics/patients", params=params, headers=bearer(Role.ANALYST))
    assert answer.status_code in (400, 422), answer.text


def test_patients_of_an_empty_model_are_zero_with_a_null_rate(client: TestClient[Any]) -> None:
    answer = client.get("/v1/analytics/patients", params=PERIOD, headers=bearer(Role.ANALYST))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["seen"], answer.json()["retention_rate"]) == (0, None)


def test_demographics_need_a_known_dimension(client: TestClient[Any]) -> None:
    for params in (PERIOD, {**PERIOD, "by": "income"}):
        answer = client.get(
            "/v1/analytics/demographics", params=params, headers=bearer(Role.ANALYST)
        )
        assert answer.status_code in (400, 422), answer.text
    fine = {**PERIOD, "by": "age_band"}
    answer = client.get("/v1/analytics/demographics", params=fine, headers=bearer(Role.ANALYST))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["threshold"], answer.json()["cells"]) == (11, [])


REPORT = {
    "title": "weekly",
    "measure": "revenue",
    "group_by": "method",
    "start_from": "2026-11-01T00:00:00Z",
    "start_to": "2026-11-08T00:00:00Z",
}


def test_an_analyst_saves_a_report_and_others_may_not(client: TestClient[Any]) -> None:
    saved = client.post("/v1/analytics/reports", json=REPORT, headers=bearer(Role.ANALYST))
    assert saved.status_code == 201, saved.text
    staff = client.post("/v1/analytics/reports", json=REPORT, headers=bearer(Role.STAFF))
    assert_problem(staff, 403, "forbidden")
    wrong = client.post(
        "/v1/analytics/reports", json={**REPORT, "group_by": "hour"}, headers=bearer(Role.ANALYST)
    )
    assert_problem(wrong, 422, "validation-failed")


@pytest.mark.parametrize("what", ["run", "csv"])
def test_an_unknown_or_someone_elses_report_is_404(client: TestClient[Any], what: str) -> None:
    answer = client.get(
        f"/v1/analytics/reports/{uuid.uuid4()}/{what}", headers=bearer(Role.ANALYST)
    )
    assert_problem(answer, 404, "not-found")
