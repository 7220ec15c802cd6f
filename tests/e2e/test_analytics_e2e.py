"""A visit booked and completed over HTTP shows in the analytics, read through the real API
and projection worker processes at the analytics projection's own position."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx

from domain.actor import Role
from tests.conftest import auth, utcnow
from tests.scenario import ok, patient, provider, slot

ANALYST = auth(Role.ANALYST)
ZONE = "America/New_York"


def test_a_completed_visit_counts_in_appointment_analytics_and_utilization(
    client: httpx.Client,
) -> None:
    provider_id = provider(client, zone=ZONE)
    _, me = patient(client)
    start = utcnow() + timedelta(minutes=5)
    slot_id = slot(client, provider_id, start)
    care = auth(Role.PROVIDER, provider_id)
    booked = ok(client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me), 201)
    appointment = booked["id"]
    ok(client.post(f"/v1/appointments/{appointment}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/start", headers=care), 200)
    done = ok(client.post(f"/v1/appointments/{appointment}/complete", json={}, headers=care), 200)
    period = {
        "from": (start - timedelta(days=1)).isoformat(),
        "to": (start + timedelta(days=1)).isoformat(),
        "provider_id": str(provider_id),
        "min_position": done["position"],
    }

    figures = ok(
        client.get(
            "/v1/analytics/appointments", params={**period, "group_by": "day"}, headers=ANALYST
        ),
        200,
    )
    used = ok(client.get("/v1/analytics/utilization", params=period, headers=ANALYST), 200)

    totals = figures["totals"]
    assert (totals["booked"], totals["due"], totals["completed"], totals["cancelled"]) == (
        1,
        1,
        1,
        0,
    )
    assert Decimal(str(totals["completion_rate"])) == 1
    assert Decimal(str(totals["no_show_rate"])) == 0
    assert totals["late_cancellation_rate"] is None  # nothing was cancelled
    assert totals["average_wait_seconds"] is not None
    assert totals["average_duration_seconds"] is not None
    [day] = figures["groups"]
    assert day["day"] == start.astimezone(ZoneInfo(ZONE)).date().isoformat()
    [mine] = used["providers"]
    assert mine["provider_id"] == str(provider_id)
    assert Decimal(str(mine["figures"]["open_seat_minutes"])) == 30
    assert Decimal(str(mine["figures"]["utilization"])) == 1


def test_analytics_are_closed_to_patients(client: httpx.Client) -> None:
    _, me = patient(client)
    now = utcnow()
    period = {"from": now.isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    response = client.get("/v1/analytics/appointments", params=period, headers=me)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
