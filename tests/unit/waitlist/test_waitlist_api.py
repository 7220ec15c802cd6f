"""The waitlist routes on the in-memory application: joins and answers through HTTP, refusals
as RFC 9457 problems, and someone else's entry reported as missing for every role but staff."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from commands.scheduling import Scheduling
from domain.actor import Role
from domain.waitlist import WaitlistEntry
from projections.waitlist_queries import EntryView, OfferView
from tests.builders import T0, create_slot, in_memory_app, patient_registers, register_provider
from tests.fakes import (
    FixedClock,
    FixedPositions,
    ListedWaitlist,
    RecordingSearch,
    StillAnalytics,
    StillQueries,
)
from tests.unit.test_api_edges import assert_problem, bearer, settings
from tests.unit.waitlist.conftest import offer


class Clinic:
    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.app: Scheduling = in_memory_app(self.clock)
        self.provider_id = register_provider(self.app)
        self.patient_id = patient_registers(self.app)
        self.slot_id = create_slot(self.app, self.provider_id, T0 + timedelta(days=2))
        self.listed = ListedWaitlist()


@pytest.fixture
def clinic() -> Clinic:
    return Clinic()


@pytest.fixture
def client(clinic: Clinic) -> Iterator[TestClient[Any]]:
    services = Services(
        scheduling=clinic.app,
        queries=StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, waitlist=10),
        clock=clinic.clock,
        read_wait_seconds=0.01,
        max_page_size=200,
        waitlist=clinic.listed,
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def joined(client: TestClient[Any], clinic: Clinic) -> str:
    answer = client.post(
        "/v1/waitlist",
        json={
            "provider_id": str(clinic.provider_id),
            "windows": [{"start": "08:00:00", "end": "12:00:00", "days": [1, 2, 3, 4, 5]}],
        },
        headers=bearer(Role.PATIENT, clinic.patient_id),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_patient_joins_and_accepts_an_offer_over_http(
    client: TestClient[Any], clinic: Clinic
) -> None:
    entry_id = joined(client, clinic)
    offer_id, hold = offer(clinic.app, uuid.UUID(entry_id), clinic.slot_id)
    me = bearer(Role.PATIENT, clinic.patient_id)
    path = f"/v1/waitlist/{entry_id}/offers/{offer_id}/accept"
    first = client.post(path, json={}, headers=me)
    again = client.post(path, json={}, headers=me)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["ids"]["appointment_id"] == again.json()["ids"]["appointment_id"]
    assert first.json()["ids"]["appointment_id"] == str(hold)


def test_someone_elses_entry_is_not_found_for_every_role_but_staff(
    client: TestClient[Any], clinic: Clinic
) -> None:
    entry_id = joined(client, clinic)
    offer_id, _ = offer(clinic.app, uuid.UUID(entry_id), clinic.slot_id)
    for role in (Role.PATIENT, Role.PROVIDER, Role.AUDITOR, Role.ANALYST):
        stranger = bearer(role)
        answer = client.post(f"/v1/waitlist/{entry_id}/offers/{offer_id}/decline", headers=stranger)
        assert_problem(answer, 404, "not-found")
        assert_problem(
            client.post(f"/v1/waitlist/{entry_id}/leave", headers=stranger), 404, "not-found"
        )
    declined = client.post(
        f"/v1/waitlist/{entry_id}/offers/{offer_id}/decline", headers=bearer(Role.STAFF)
    )
    assert declined.status_code == 200, declined.text


def test_a_patient_may_not_set_a_tier_and_bad_bodies_are_problems(
    client: TestClient[Any], clinic: Clinic
) -> None:
    me = bearer(Role.PATIENT, clinic.patient_id)
    body = {"provider_id": str(clinic.provider_id), "tier": 0}
    assert_problem(client.post("/v1/waitlist", json=body, headers=me), 403, "forbidden")
    both = {"provider_id": str(clinic.provider_id), "specialty": "cardiology"}
    assert_problem(client.post("/v1/waitlist", json=both, headers=me), 422, "validation-failed")
    unknown = {"provider_id": str(clinic.provider_id), "colour": "red"}
    assert client.post("/v1/waitlist", json=unknown, headers=me).status_code == 400
    bad_window = {
        "provider_id": str(clinic.provider_id),
        "windows": [{"start": "12:00:00", "end": "08:00:00"}],
    }
    assert_problem(
        client.post("/v1/waitlist", json=bad_window, headers=me), 422, "validation-failed"
    )
    entry_id = joined(client, clinic)
    answer = client.post(f"/v1/waitlist/{entry_id}/priority", json={"tier": 0}, headers=me)
    assert_problem(answer, 403, "forbidden")
    staff = client.post(
        f"/v1/waitlist/{entry_id}/priority", json={"tier": 0}, headers=bearer(Role.STAFF)
    )
    assert staff.status_code == 200
    assert clinic.app.load(WaitlistEntry, uuid.UUID(entry_id), "e").tier == 0


def _view(patient_id: uuid.UUID) -> EntryView:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    rank = {"tier": 3, "place": 1}
    offered = OfferView(
        offer_id=uuid.uuid4(),
        slot_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        appointment_id=uuid.uuid4(),
        slot_start=at,
        offered_at=at,
        expires_at=at,
        status="open",
        answered_at=None,
        moved_appointment_id=None,
        rank=rank,
    )
    return EntryView(
        id=uuid.uuid4(),
        patient_id=patient_id,
        provider_id=uuid.uuid4(),
        specialty=None,
        appointment_type="in_person",
        time_zone="UTC",
        earliest=date(2026, 12, 1),
        deadline=None,
        windows=[],
        has_area=False,
        tier=3,
        joined_at=at,
        origin="patient",
        moves_appointment_id=None,
        status="offered",
        cooldown_until=None,
        accepted_appointment_id=None,
        closed_reason=None,
        version=2,
        offers=[offered],
    )


def test_reads_show_a_patient_their_own_entries_without_rank_inputs(
    client: TestClient[Any], clinic: Clinic
) -> None:
    mine, theirs = _view(clinic.patient_id), _view(uuid.uuid4())
    clinic.listed.entries = [mine, theirs]
    me = bearer(Role.PATIENT, clinic.patient_id)
    listed = client.get("/v1/waitlist", headers=me)
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()] == [str(mine.id)]
    assert listed.json()[0]["offers"][0]["rank"] is None
    assert_problem(client.get(f"/v1/waitlist/{theirs.id}", headers=me), 404, "not-found")
    staff = client.get(f"/v1/waitlist/{theirs.id}", headers=bearer(Role.STAFF))
    assert staff.json()["offers"][0]["rank"] == {"tier": 3, "place": 1}
    assert_problem(client.get("/v1/waitlist", headers=bearer(Role.STAFF)), 422, "validation-failed")
    assert_problem(
        client.get(f"/v1/waitlist/{mine.id}", headers=bearer(Role.PROVIDER)), 404, "not-found"
    )


def test_the_queue_and_metrics_are_for_staff_and_the_providers_own(
    client: TestClient[Any], clinic: Clinic
) -> None:
    queue = f"/v1/waitlist/queue?provider_id={clinic.provider_id}"
    assert client.get(queue, headers=bearer(Role.STAFF)).status_code == 200
    assert client.get(queue, headers=bearer(Role.PROVIDER, clinic.provider_id)).status_code == 200
    assert_problem(client.get(queue, headers=bearer(Role.PROVIDER)), 404, "not-found")
    assert_problem(client.get(queue, headers=bearer(Role.PATIENT)), 403, "forbidden")
    neither = client.get("/v1/waitlist/queue", headers=bearer(Role.STAFF))
    assert_problem(neither, 422, "validation-failed")
    metrics = (
        f"/v1/waitlist/offer-metrics?provider_id={clinic.provider_id}&from=2026-12-01T00:00:00Z"
    )
    naive = client.get(metrics + "&to=2026-12-02T00:00:00", headers=bearer(Role.STAFF))
    assert_problem(naive, 422, "validation-failed")
