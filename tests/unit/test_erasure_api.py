"""Erasure and legal holds over HTTP: staff may, anyone else is told the patient is not found,
a hold answers 409 legal-hold, and nothing personal is echoed in a problem."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from domain.actor import Role
from domain.personal import ERASED
from tests.unit.test_api_edges import assert_problem, bearer, make_client


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    with make_client() as test_client:
        yield test_client


def staff_registers(client: TestClient[Any]) -> str:
    body = {"details": {"name": "Ada Byron", "time_zone": "UTC"}}
    response = client.post("/v1/patients", json=body, headers=bearer(Role.STAFF))
    assert response.status_code == 201, response.text
    patient_id: str = response.json()["id"]
    return patient_id


def test_staff_erase_a_patient_over_http(client: TestClient[Any]) -> None:
    patient_id = staff_registers(client)
    response = client.post(
        f"/v1/patients/{patient_id}/erase",
        json={"reason": "patient_request"},
        headers=bearer(Role.STAFF),
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == patient_id


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER, Role.AUDITOR])
def test_anyone_but_staff_is_told_the_patient_is_not_found(
    client: TestClient[Any], role: Role
) -> None:
    patient_id = staff_registers(client)
    subject = UUID(patient_id) if role is Role.PATIENT else None
    for path, body in (("erase", {"reason": "patient_request"}), ("legal-hold", {"held": False})):
        response = client.post(
            f"/v1/patients/{patient_id}/{path}", json=body, headers=bearer(role, subject)
        )
        assert_problem(response, 404, "not-found")


def test_erasing_a_patient_under_a_legal_hold_is_a_409_legal_hold_problem(
    client: TestClient[Any],
) -> None:
    patient_id = staff_registers(client)
    staff = bearer(Role.STAFF)
    hold = {"held": True, "reason": "litigation 2026-17"}
    assert client.post(f"/v1/patients/{patient_id}/legal-hold", json=hold, headers=staff).is_success
    response = client.post(
        f"/v1/patients/{patient_id}/erase", json={"reason": "patient_request"}, headers=staff
    )
    body = assert_problem(response, 409, "legal-hold")
    assert "litigation" not in response.text
    assert "Ada" not in body["detail"]


def test_an_unknown_erasure_reason_or_a_hold_without_reason_is_a_client_error(
    client: TestClient[Any],
) -> None:
    patient_id = staff_registers(client)
    staff = bearer(Role.STAFF)
    response = client.post(
        f"/v1/patients/{patient_id}/erase", json={"reason": "because"}, headers=staff
    )
    assert_problem(response, 400, "invalid-request")
    response = client.post(
        f"/v1/patients/{patient_id}/legal-hold", json={"held": True}, headers=staff
    )
    assert_problem(response, 422, "validation-failed")


def test_an_update_for_an_erased_patient_is_a_409_patient_erased_problem(
    client: TestClient[Any],
) -> None:
    patient_id = staff_registers(client)
    staff = bearer(Role.STAFF)
    client.post(
        f"/v1/patients/{patient_id}/erase", json={"reason": "patient_request"}, headers=staff
    )
    response = client.post(
        f"/v1/patients/{patient_id}/details", json={"phone": "+441234"}, headers=staff
    )
    assert_problem(response, 409, "patient-erased")
    assert ERASED not in response.text
