"""The payment routes on in-memory persistence: staff record and refund, the patient reads
their own account, everyone else gets 404, and bad input is a problem, never a 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from commands.scheduling import Scheduling
from domain.actor import Role
from tests.builders import (
    T0,
    book,
    create_slot,
    in_memory_app,
    patient_registers,
    register_provider,
)
from tests.fakes import FixedClock, FixedPositions, RecordingSearch, StillAnalytics, StillQueries
from tests.unit.test_api_edges import assert_problem, bearer, settings


class Visit:
    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.app: Scheduling = in_memory_app(self.clock)
        self.provider_id = register_provider(self.app)
        self.patient_id = patient_registers(self.app)
        slot = create_slot(self.app, self.provider_id)
        self.id = book(self.app, slot, self.patient_id).id


@pytest.fixture
def visit() -> Visit:
    return Visit()


@pytest.fixture
def client(visit: Visit) -> Iterator[TestClient[Any]]:
    services = Services(
        scheduling=visit.app,
        queries=StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=visit.clock,
        read_wait_seconds=0.01,
        max_page_size=200,
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


PAYMENT = {"amount": "80.00", "currency": "EUR", "method": "card", "external_reference": "ch_1"}


def test_staff_record_and_refund_and_the_patient_reads_it(
    client: TestClient[Any], visit: Visit
) -> None:
    staff = bearer(Role.STAFF, uuid.uuid4())
    paid = client.post(f"/v1/appointments/{visit.id}/payments", json=PAYMENT, headers=staff)
    assert paid.status_code == 201, paid.text
    payment_id = paid.json()["id"]
    refund = {"amount": "30.00", "reason": "goodwill"}
    url = f"/v1/appointments/{visit.id}/payments/{payment_id}/refunds"
    assert client.post(url, json=refund, headers=staff).status_code == 201
    too_much = client.post(url, json={"amount": "50.01", "reason": "goodwill"}, headers=staff)
    assert_problem(too_much, 409, "conflict")
    mine = client.get(
        f"/v1/appointments/{visit.id}/account", headers=bearer(Role.PATIENT, visit.patient_id)
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["balances"] == [
        {
            "currency": "EUR",
            "paid": "80.00",
            "refunded": "30.00",
            "net": "50.00",
            "fees_due": "0.00",
        }
    ]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER])
def test_someone_elses_account_is_404(client: TestClient[Any], visit: Visit, role: Role) -> None:
    answer = client.get(f"/v1/appointments/{visit.id}/account", headers=bearer(role, uuid.uuid4()))
    assert_problem(answer, 404, "not-found")


def test_a_patient_cannot_record_a_payment(client: TestClient[Any], visit: Visit) -> None:
    answer = client.post(
        f"/v1/appointments/{visit.id}/payments",
        json=PAYMENT,
        headers=bearer(Role.PATIENT, visit.patient_id),
    )
    assert_problem(answer, 403, "forbidden")


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "NaN"},
        {"amount": "1.001"},
        {"currency": "eur"},
        {"method": "bitcoin"},
        {"external_reference": "4111111111111111"},
        {"card_number": "4111111111111111"},
    ],
)
def test_bad_payments_are_problems(
    client: TestClient[Any], visit: Visit, change: dict[str, str]
) -> None:
    answer = client.post(
        f"/v1/appointments/{visit.id}/payments",
        json={**PAYMENT, **change},
        headers=bearer(Role.STAFF, uuid.uuid4()),
    )
    assert answer.status_code in (400, 422), answer.text
    assert "4111" not in answer.text  # a card number is never echoed back
