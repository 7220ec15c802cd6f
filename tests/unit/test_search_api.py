"""The search endpoints at the HTTP edge, on a recording fake backend: what each request turns
into, what is refused, and whose notes a caller may search."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import mint_token
from api.deps import Services
from domain.actor import Role
from infra.settings import DEV_SIGNING_KEY, Settings, SettingsError
from projections.search import GeoPoint, NoteScope, ProviderQuery, SlotQuery
from tests.builders import in_memory_app
from tests.fakes import FixedClock, RecordingSearch, StillAnalytics, StillQueries

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def search() -> RecordingSearch:
    return RecordingSearch(position=4)


@pytest.fixture
def client(search: RecordingSearch) -> Iterator[TestClient[Any]]:
    clock = FixedClock(NOW)
    services = Services(
        scheduling=in_memory_app(clock),
        queries=StillQueries(),
        analytics=StillAnalytics(),
        search=search,
        search_position=search,
        clock=clock,
        read_wait_seconds=0.01,
        max_page_size=200,
    )
    settings = Settings.from_env({"SLOTWISE_MODE": "test"})
    with TestClient(create_app(settings, services)) as c:
        yield c


def bearer(role: Role, subject: uuid.UUID | None = None) -> dict[str, str]:
    token = mint_token(DEV_SIGNING_KEY, "slotwise", role, subject or uuid.uuid4())
    return {"Authorization": f"Bearer {token}"}


def problem(response: Any, status: int, slug: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + slug)
    detail: str = response.json()["detail"]
    return detail


def test_provider_search_parameters_become_one_provider_query(
    client: TestClient[Any], search: RecordingSearch
) -> None:
    params: tuple[tuple[str, str], ...] = (
        ("q", "heart"),
        ("specialization", "Cardiology"),
        ("specialization", "Neurology"),
        ("insurance", "AOK"),
        ("min_rating", "3.5"),
        ("accepting_new_patients", "true"),
        ("lat", "52.5"),
        ("lon", "13.4"),
        ("radius_km", "10"),
        ("free_from", "2030-01-08T00:00:00+01:00"),
        ("free_to", "2030-01-09T00:00:00Z"),
        ("sort", "distance"),
        ("limit", "5"),
        ("offset", "10"),
    )

    response = client.get("/v1/search/providers", params=params, headers=bearer(Role.PATIENT))

    assert response.status_code == 200, response.text
    assert response.json() == {"hits": [], "total": 0, "facets": {}, "limit": 5, "offset": 10}
    assert search.asked == [
        (
            "providers",
            ProviderQuery(
                q="heart",
                specializations=["Cardiology", "Neurology"],
                insurances=["AOK"],
                min_rating=Decimal("3.5"),
                accepting_new_patients=True,
                near=GeoPoint(lat=52.5, lon=13.4),
                radius_km=10.0,
                free_from=datetime(2030, 1, 7, 23, 0, tzinfo=UTC),
                free_to=datetime(2030, 1, 9, 0, 0, tzinfo=UTC),
                sort="distance",
                limit=5,
                offset=10,
            ),
        )
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "distance"}, "sort=distance needs a point"),
        ({"radius_km": "5"}, "radius_km needs a point"),
        ({"lat": "52.5"}, "lat and lon go together"),
        ({"lat": "91", "lon": "0"}, "lat must be within"),
        ({"free_from": "2030-01-08T00:00:00"}, "free_from must carry a time zone"),
        ({"limit": "101"}, "limit must be"),
    ],
)
def test_a_provider_search_that_cannot_be_answered_is_422(
    client: TestClient[Any], search: RecordingSearch, params: dict[str, str], message: str
) -> None:
    response = client.get("/v1/search/providers", params=params, headers=bearer(Role.STAFF))

    assert message in problem(response, 422, "validation-failed")
    assert search.asked == []


def test_an_unknown_sort_is_400(client: TestClient[Any]) -> None:
    response = client.get(
        "/v1/search/providers", params={"sort": "name; DROP"}, headers=bearer(Role.STAFF)
    )
    problem(response, 400, "invalid-request")


def test_search_needs_a_token(client: TestClient[Any]) -> None:
    problem(client.get("/v1/search/providers"), 401, "unauthenticated")


def test_slot_search_defaults_to_the_next_two_weeks(
    client: TestClient[Any], search: RecordingSearch
) -> None:
    provider_id = uuid.uuid4()
    params = {"provider_id": str(provider_id), "type": "video", "location": "Berlin"}

    response = client.get("/v1/search/slots", params=params, headers=bearer(Role.ANALYST))

    assert response.status_code == 200, response.text
    assert search.asked == [
        (
            "slots",
            SlotQuery(
                start_from=NOW,
                start_to=NOW + timedelta(days=14),
                provider_id=provider_id,
                appointment_type="video",
                location="Berlin",
            ),
        )
    ]
    wide = {"from": "2030-01-01T00:00:00Z", "to": "2030-06-01T00:00:00Z"}
    too_wide = client.get("/v1/search/slots", params=wide, headers=bearer(Role.STAFF))
    assert "within 62 days" in problem(too_wide, 422, "validation-failed")


def test_autocomplete_passes_the_prefix_and_refuses_a_blank_one(
    client: TestClient[Any], search: RecordingSearch
) -> None:
    found = client.get(
        "/v1/search/autocomplete", params={"prefix": "card"}, headers=bearer(Role.PATIENT)
    )
    assert found.json() == {"suggestions": []}
    assert search.asked == [("autocomplete", ("card", 10))]
    blank = client.get(
        "/v1/search/autocomplete", params={"prefix": "  "}, headers=bearer(Role.PATIENT)
    )
    problem(blank, 422, "validation-failed")
    many = client.get(
        "/v1/search/autocomplete",
        params={"prefix": "card", "limit": "21"},
        headers=bearer(Role.PATIENT),
    )
    problem(many, 422, "validation-failed")


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER])
def test_notes_are_searched_in_the_scope_of_the_token(
    client: TestClient[Any], search: RecordingSearch, role: Role
) -> None:
    me = uuid.uuid4()

    response = client.get("/v1/search/notes", params={"q": "asthma"}, headers=bearer(role, me))

    assert response.json() == {"hits": []}
    scope = NoteScope(patient_id=me) if role is Role.PATIENT else NoteScope(provider_id=me)
    assert search.asked == [("notes", ("asthma", scope, 20))]


@pytest.mark.parametrize("role", [Role.STAFF, Role.AUDITOR, Role.ANALYST])
def test_anyone_else_finds_no_notes_without_the_backend_being_asked(
    client: TestClient[Any], search: RecordingSearch, role: Role
) -> None:
    response = client.get("/v1/search/notes", params={"q": "asthma"}, headers=bearer(role))

    assert (response.status_code, response.json()) == (200, {"hits": []})
    assert search.asked == []


def test_a_search_waits_for_the_search_projections_own_position(client: TestClient[Any]) -> None:
    caught_up = client.get(
        "/v1/search/providers", params={"min_position": "4"}, headers=bearer(Role.STAFF)
    )
    behind = client.get(
        "/v1/search/notes",
        params={"q": "x", "min_position": "5"},
        headers=bearer(Role.PATIENT),
    )

    assert caught_up.status_code == 200
    problem(behind, 503, "read-model-behind")


def test_the_search_backend_is_chosen_by_the_environment() -> None:
    assert Settings.from_env({"SLOTWISE_MODE": "test"}).search_backend == "postgres"
    chosen = Settings.from_env(
        {
            "SLOTWISE_MODE": "test",
            "SEARCH_BACKEND": "opensearch",
            "OPENSEARCH_URL": "http://127.0.0.1:9200",
        }
    )
    assert (chosen.search_backend, chosen.opensearch_url) == (
        "opensearch",
        "http://127.0.0.1:9200",
    )
    with pytest.raises(SettingsError, match="OPENSEARCH_URL"):
        Settings.from_env({"SLOTWISE_MODE": "test", "SEARCH_BACKEND": "opensearch"})
    with pytest.raises(SettingsError, match="SEARCH_BACKEND must be one of"):
        Settings.from_env({"SLOTWISE_MODE": "test", "SEARCH_BACKEND": "solr"})
