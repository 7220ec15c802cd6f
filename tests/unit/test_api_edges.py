"""The HTTP edge on in-memory persistence: auth, limits and problem details for every error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import mint_token
from api.deps import Services
from domain.actor import Role
from infra.settings import DEV_SIGNING_KEY, Settings, SettingsError
from tests.builders import in_memory_app
from tests.fakes import (
    BrokenClock,
    FixedClock,
    FixedPositions,
    RecordingSearch,
    StillAnalytics,
    StillQueries,
)

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def settings(**overrides: str) -> Settings:
    return Settings.from_env({"SLOTWISE_MODE": "test", **overrides})


def make_client(
    clock: Any = None,
    search: RecordingSearch | None = None,
    queries: StillQueries | None = None,
    positions: FixedPositions | None = None,
    **overrides: str,
) -> TestClient[Any]:
    clock = clock or FixedClock(NOW)
    search = search or RecordingSearch()
    services = Services(
        scheduling=in_memory_app(clock),
        queries=queries or StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=search,
        positions=positions or FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=clock,
        read_wait_seconds=0.01,
        max_page_size=200,
    )
    return TestClient(create_app(settings(**overrides), services))


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    with make_client() as c:
        yield c


def bearer(
    role: Role, subject: uuid.UUID | None = None, key: str = DEV_SIGNING_KEY
) -> dict[str, str]:
    token = mint_token(key, "slotwise", role, subject or uuid.uuid4())
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + slug)
    assert body["title"]
    return body


def test_a_request_without_a_token_is_401(client: TestClient[Any]) -> None:
    assert_problem(client.get("/v1/appointments"), 401, "unauthenticated")


def test_a_token_signed_with_another_key_is_401(client: TestClient[Any]) -> None:
    forged = bearer(Role.STAFF, key="another-key-another-key-another-key!")
    assert_problem(client.get("/v1/appointments", headers=forged), 401, "unauthenticated")


def test_a_patient_cannot_read_reports(client: TestClient[Any]) -> None:
    response = client.get(
        "/v1/reports/no-shows",
        params={"from": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:00:00Z"},
        headers=bearer(Role.PATIENT),
    )
    assert_problem(response, 403, "forbidden")


def test_a_patient_cannot_register_a_provider(client: TestClient[Any]) -> None:
    body = {"profile": {"name": "Dr Who", "time_zone": "Europe/London"}}
    response = client.post("/v1/providers", json=body, headers=bearer(Role.PATIENT))
    assert_problem(response, 403, "forbidden")


def test_unknown_fields_and_coerced_types_are_400_naming_the_field(
    client: TestClient[Any],
) -> None:
    staff = bearer(Role.STAFF)
    unknown = client.post(
        "/v1/providers",
        json={"profile": {"name": "Dr Who", "time_zone": "UTC"}, "admin": True},
        headers=staff,
    )
    coerced = client.post(
        "/v1/slots",
        json={
            "provider_id": str(uuid.uuid4()),
            "start": "2030-01-08T09:00:00Z",
            "end": "2030-01-08T09:30:00Z",
            "capacity": "2",
        },
        headers=staff,
    )
    assert "admin" in assert_problem(unknown, 400, "invalid-request")["detail"]
    assert "capacity" in assert_problem(coerced, 400, "invalid-request")["detail"]


def test_a_rule_broken_by_valid_json_is_422(client: TestClient[Any]) -> None:
    body = {"profile": {"name": "Dr Who", "time_zone": "Mars/Olympus_Mons"}}
    response = client.post("/v1/providers", json=body, headers=bearer(Role.STAFF))
    assert "Mars/Olympus_Mons" in assert_problem(response, 422, "validation-failed")["detail"]


def test_an_oversized_body_is_refused(client: TestClient[Any]) -> None:
    body = {"profile": {"name": "x" * 70_000, "time_zone": "UTC"}}
    response = client.post("/v1/providers", json=body, headers=bearer(Role.STAFF))
    assert_problem(response, 413, "http-error")


def test_the_page_size_is_capped(client: TestClient[Any]) -> None:
    response = client.get("/v1/appointments", params={"limit": 201}, headers=bearer(Role.STAFF))
    assert "limit" in assert_problem(response, 422, "validation-failed")["detail"]


def test_an_overlong_idempotency_key_is_refused(client: TestClient[Any]) -> None:
    response = client.post(
        "/v1/providers",
        json={"profile": {"name": "Dr Who", "time_zone": "UTC"}},
        headers={**bearer(Role.STAFF), "Idempotency-Key": "k" * 256},
    )
    assert_problem(response, 422, "validation-failed")


def test_waiting_for_a_position_the_read_model_never_reaches_is_503(
    client: TestClient[Any],
) -> None:
    response = client.get("/v1/appointments?min_position=6", headers=bearer(Role.STAFF))
    assert_problem(response, 503, "read-model-behind")
    assert response.headers["Retry-After"] == "1"
    reached = client.get("/v1/appointments?min_position=5", headers=bearer(Role.STAFF))
    assert reached.status_code == 200


def test_a_position_beyond_the_log_head_is_422_at_once_with_the_head() -> None:
    positions = FixedPositions(head=10, scheduling=5)
    with make_client(positions=positions) as client:
        response = client.get(
            "/v1/appointments", headers={**bearer(Role.STAFF), "X-Min-Position": "11"}
        )

    body = assert_problem(response, 422, "position-beyond-head")
    assert body["head"] == 10
    assert "11" in body["detail"]
    assert "Retry-After" not in response.headers
    assert positions.asked == [("scheduling", 11)]


def test_a_read_past_the_bound_on_waiting_reads_is_503_with_retry_after() -> None:
    positions = FixedPositions(head=10, scheduling=5)
    positions.full = True
    with make_client(positions=positions) as client:
        waiting = client.get("/v1/appointments?min_position=6", headers=bearer(Role.STAFF))
        seen = client.get("/v1/appointments?min_position=5", headers=bearer(Role.STAFF))

    assert_problem(waiting, 503, "too-many-waiters")
    assert waiting.headers["Retry-After"] == "1"
    assert seen.status_code == 200  # a position already applied needs no waiting


def test_requests_over_the_rate_limit_get_429() -> None:
    with make_client(SLOTWISE_RATE_LIMIT_PER_MINUTE="3") as limited:
        statuses = [
            limited.get("/v1/appointments", headers=bearer(Role.STAFF)).status_code
            for _ in range(5)
        ]
        last = limited.get("/v1/appointments", headers=bearer(Role.STAFF))
    assert statuses[:3] == [200, 200, 200]
    assert_problem(last, 429, "rate-limited")
    assert int(last.headers["Retry-After"]) >= 0


def test_an_unexpected_error_is_a_500_that_leaks_nothing() -> None:
    with make_client(clock=BrokenClock()) as broken:
        response = broken.post(
            "/v1/providers",
            json={"profile": {"name": "Dr Who", "time_zone": "UTC"}},
            headers=bearer(Role.STAFF),
        )
    body = assert_problem(response, 500, "internal")
    assert "secret" not in response.text
    assert "postgres" not in body["detail"]


def test_a_command_returns_its_ids_and_log_position(client: TestClient[Any]) -> None:
    response = client.post(
        "/v1/providers",
        json={"profile": {"name": "Dr Who", "time_zone": "UTC"}},
        headers=bearer(Role.STAFF),
    )
    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["position"] >= 1


def test_production_mode_refuses_to_start_with_the_default_key() -> None:
    with pytest.raises(SettingsError, match="SLOTWISE_JWT_SECRET"):
        Settings.from_env({})
    with pytest.raises(SettingsError, match="dev key"):
        Settings.from_env({"SLOTWISE_JWT_SECRET": DEV_SIGNING_KEY})
    assert Settings.from_env({"SLOTWISE_JWT_SECRET": "s" * 40}).jwt_secret == "s" * 40


def test_an_expired_token_is_401(client: TestClient[Any]) -> None:
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": "slotwise",
        "role": "staff",
        "exp": datetime.now(UTC) - timedelta(seconds=5),
    }
    token = jwt.encode(claims, DEV_SIGNING_KEY, algorithm="HS256")
    response = client.get("/v1/appointments", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "unauthenticated")


def test_a_provider_schedule_naming_patients_is_closed_to_patients_and_other_providers(
    client: TestClient[Any],
) -> None:
    provider_id = uuid.uuid4()
    path = f"/v1/providers/{provider_id}/schedule?day=2030-01-07"
    for outsider in (bearer(Role.PATIENT), bearer(Role.PROVIDER), bearer(Role.ANALYST)):
        assert_problem(client.get(path, headers=outsider), 403, "forbidden")
    # The provider themself gets past the guard (to a 404 here: the fake read model is empty).
    assert_problem(client.get(path, headers=bearer(Role.PROVIDER, provider_id)), 404, "not-found")


# --- analytics --------------------------------------------------------------------------------

PERIOD = {"from": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:00:00Z"}


@pytest.mark.parametrize("path", ["/v1/analytics/appointments", "/v1/analytics/utilization"])
def test_analytics_are_closed_to_patients_and_providers(client: TestClient[Any], path: str) -> None:
    for outsider in (bearer(Role.PATIENT), bearer(Role.PROVIDER)):
        assert_problem(client.get(path, params=PERIOD, headers=outsider), 403, "forbidden")
    for insider in (bearer(Role.ANALYST), bearer(Role.STAFF), bearer(Role.AUDITOR)):
        assert client.get(path, params=PERIOD, headers=insider).status_code == 200


def test_analytics_of_an_empty_model_are_zero_counts_and_null_rates(
    client: TestClient[Any],
) -> None:
    body = client.get(
        "/v1/analytics/appointments",
        params={**PERIOD, "group_by": "hour"},
        headers=bearer(Role.ANALYST),
    ).json()
    assert body["from"] == "2030-01-01T00:00:00Z"
    assert body["group_by"] == "hour"
    assert body["totals"]["booked"] == 0
    assert body["totals"]["completion_rate"] is None
    assert body["totals"]["cancellation_rate"] is None
    assert body["totals"]["average_wait_seconds"] is None
    used = client.get("/v1/analytics/utilization", params=PERIOD, headers=bearer(Role.ANALYST))
    assert used.json()["totals"]["utilization"] is None


def test_an_unknown_grouping_is_400_naming_the_parameter(client: TestClient[Any]) -> None:
    response = client.get(
        "/v1/analytics/appointments",
        params={**PERIOD, "group_by": "weekday"},
        headers=bearer(Role.ANALYST),
    )
    assert "group_by" in assert_problem(response, 400, "invalid-request")["detail"]


def test_an_analytics_period_is_at_most_366_days_and_must_not_be_inverted(
    client: TestClient[Any],
) -> None:
    analyst = bearer(Role.ANALYST)
    too_long = {"from": "2030-01-01T00:00:00Z", "to": "2031-01-03T00:00:00Z"}
    inverted = {"from": "2030-02-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    naive = {"from": "2030-01-01T00:00:00", "to": "2030-02-01T00:00:00"}
    for path in ("/v1/analytics/appointments", "/v1/analytics/utilization"):
        assert_problem(client.get(path, params=too_long, headers=analyst), 422, "validation-failed")
        assert_problem(client.get(path, params=inverted, headers=analyst), 422, "validation-failed")
        assert_problem(client.get(path, params=naive, headers=analyst), 422, "validation-failed")


def test_analytics_wait_on_the_analytics_position_not_the_scheduling_one(
    client: TestClient[Any],
) -> None:
    analyst = bearer(Role.ANALYST)
    # The fake scheduling model is at 5, the analytics one at 3.
    behind = client.get(
        "/v1/analytics/appointments", params={**PERIOD, "min_position": 4}, headers=analyst
    )
    assert_problem(behind, 503, "read-model-behind")
    reached = client.get(
        "/v1/analytics/utilization", params={**PERIOD, "min_position": 3}, headers=analyst
    )
    assert reached.status_code == 200
