"""Small HTTP steps that e2e tests compose: register people, publish slots, book."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from domain.actor import Role
from tests.conftest import auth, utcnow

STAFF = auth(Role.STAFF)


def ok(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def provider(client: httpx.Client, zone: str = "Europe/Berlin") -> uuid.UUID:
    body = {"profile": {"name": "Dr Ada Lovelace", "time_zone": zone}}
    return uuid.UUID(ok(client.post("/v1/providers", json=body, headers=STAFF), 201)["id"])


def patient(client: httpx.Client) -> tuple[uuid.UUID, dict[str, str]]:
    patient_id = uuid.uuid4()
    headers = auth(Role.PATIENT, patient_id)
    body = {"details": {"name": "Grace Hopper", "time_zone": "Europe/Berlin"}}
    ok(client.post("/v1/patients", json=body, headers=headers), 201)
    return patient_id, headers


def slot(
    client: httpx.Client,
    provider_id: uuid.UUID,
    start: datetime | None = None,
    minutes: int = 30,
    capacity: int = 1,
) -> uuid.UUID:
    begin = start or utcnow() + timedelta(minutes=10)
    body = {
        "provider_id": str(provider_id),
        "start": begin.isoformat(),
        "end": (begin + timedelta(minutes=minutes)).isoformat(),
        "capacity": capacity,
    }
    return uuid.UUID(ok(client.post("/v1/slots", json=body, headers=STAFF), 201)["id"])
