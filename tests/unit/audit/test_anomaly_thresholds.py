"""Anomaly thresholds per role: the setting's form and its refusals, and which thresholds the
report route hands the audit store (each role's own unless the auditor asks for one number)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from domain.actor import Role
from infra.settings import Settings, SettingsError
from projections.audit.trail import AnomalyReport, Thresholds
from tests.builders import in_memory_services
from tests.fakes import FixedClock
from tests.unit.test_api_edges import bearer, settings
from tests.unit.test_read_audit_sweep import NOW, EmptyTrail


def by_role(value: str) -> tuple[tuple[str, int], ...]:
    env = {"SLOTWISE_MODE": "test", "SLOTWISE_AUDIT_DISTINCT_PATIENTS_BY_ROLE": value}
    return Settings.from_env(env).audit_distinct_patients_by_role


def test_per_role_thresholds_are_read_as_role_equals_number_pairs() -> None:
    assert by_role("staff=200, provider=80,auditor=0") == (
        ("staff", 200),
        ("provider", 80),
        ("auditor", 0),
    )
    assert by_role("") == ()
    assert Settings.from_env({"SLOTWISE_MODE": "test"}).audit_distinct_patients_by_role == ()


@pytest.mark.parametrize("value", ["nurse=3", "staff=", "staff=-1", "staff=many", "staff"])
def test_a_malformed_per_role_threshold_refuses_to_start_and_names_the_setting(
    value: str,
) -> None:
    with pytest.raises(SettingsError, match="SLOTWISE_AUDIT_DISTINCT_PATIENTS_BY_ROLE"):
        by_role(value)


def test_a_role_without_a_threshold_of_its_own_gets_the_default() -> None:
    limits = Thresholds(50, {"staff": 200})
    assert limits.of("staff") == 200
    assert limits.of("provider") == 50
    assert limits.of(None) == 50


class RecordingTrail(EmptyTrail):
    def __init__(self) -> None:
        self.asked: list[Thresholds] = []

    def anomalies(self, start: datetime, end: datetime, limits: Thresholds) -> AnomalyReport:
        self.asked.append(limits)
        return super().anomalies(start, end, limits)


@pytest.fixture
def trail() -> RecordingTrail:
    return RecordingTrail()


@pytest.fixture
def client(trail: RecordingTrail) -> Iterator[TestClient[Any]]:
    services = in_memory_services(
        FixedClock(NOW),
        trail=trail,
        anomaly_threshold=40,
        anomaly_role_thresholds={"staff": 300, "provider": 25},
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def test_the_report_applies_each_roles_threshold_and_names_them(
    client: TestClient[Any], trail: RecordingTrail
) -> None:
    answer = client.get("/v1/audit/anomalies", headers=bearer(Role.AUDITOR, uuid.uuid4()))
    assert answer.status_code == 200, answer.text
    assert trail.asked == [Thresholds(40, {"staff": 300, "provider": 25})]
    assert answer.json()["threshold"] == 40
    assert answer.json()["role_thresholds"] == {"staff": 300, "provider": 25}


def test_a_threshold_asked_for_applies_to_every_role(
    client: TestClient[Any], trail: RecordingTrail
) -> None:
    answer = client.get(
        "/v1/audit/anomalies", params={"threshold": 3}, headers=bearer(Role.AUDITOR)
    )
    assert answer.status_code == 200, answer.text
    assert trail.asked == [Thresholds(3)]
    assert answer.json()["role_thresholds"] == {}
    refused = client.get(
        "/v1/audit/anomalies", params={"threshold": -1}, headers=bearer(Role.AUDITOR)
    )
    assert refused.status_code == 422
