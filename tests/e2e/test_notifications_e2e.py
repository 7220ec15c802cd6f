"""Notifications through the real processes: the API, the reminder policy
(`slotwise worker reminders`), the scheduler and the dramatiq send worker on Redis, with the
recording channels, on the real clock.

Book → the confirmation is recorded → reschedule → the old reminders are gone and new ones
exist → cancel → nothing is left to send. Then a batch of reminders falls due and the send
worker is killed with SIGKILL in the middle of it and restarted: every due message is recorded
exactly once, none lost and none twice."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from domain.actor import Role
from infra.devstack.redis_server import redis_url
from infra.postgres.database import Database
from tests.conftest import ROOT, Stack, auth, utcnow, wait_until
from tests.scenario import STAFF, ok, provider, slot

PENDING = ("planned", "queued", "sending")


@pytest.fixture(scope="module")
def notify_stack(stack: Stack) -> Iterator[Stack]:
    with redis_url(os.environ.get("REDIS_URL"), ROOT / ".state") as (url, _):
        stack.env.update(
            {
                "REDIS_URL": url,
                "SLOTWISE_REDIS_NAMESPACE": f"slotwise-e2e-{uuid.uuid4().hex[:8]}",
                "SLOTWISE_NOTIFICATION_LEASE_SECONDS": "2",
                "SLOTWISE_NOTIFICATION_STUCK_SECONDS": "3",
            }
        )
        stack.start("reminders", "worker", "reminders")
        stack.start("notify-scheduler", "worker", "notify-scheduler")
        stack.start("notify-sender", "worker", "notify-sender", "--threads", "2")
        yield stack
        for name in ("notify-sender", "notify-scheduler", "reminders"):
            if name in stack.processes:
                stack.stop(name)


def patient(client: httpx.Client) -> tuple[uuid.UUID, dict[str, str]]:
    patient_id = uuid.uuid4()
    headers = auth(Role.PATIENT, patient_id)
    details = {
        "name": "Grace Hopper",
        "time_zone": "Europe/Berlin",
        "phone": "+4930123456",
        "email": "grace@example.org",
        "notification_consent": True,
    }
    ok(client.post("/v1/patients", json={"details": details}, headers=headers), 201)
    return patient_id, headers


def deliveries(client: httpx.Client, appointment: str) -> list[dict[str, Any]]:
    return ok_list(client.get(f"/v1/appointments/{appointment}/notifications", headers=STAFF))


def ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def planned_reminders(client: httpx.Client, appointment: str) -> set[tuple[str, str, str]]:
    return {
        (d["kind"], d["channel"], d["start_at"])
        for d in deliveries(client, appointment)
        if d["kind"].startswith("reminder_") and d["status"] == "planned"
    }


def waiting(stack: Stack, condition: Any, what: str, timeout: float = 40) -> None:
    try:
        wait_until(condition, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}\n{stack.logs()}") from None


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def same_instant(text: str, at: datetime) -> bool:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) == at


def test_book_reschedule_cancel_keeps_the_reminders_in_step(
    notify_stack: Stack, client: httpx.Client
) -> None:
    provider_id = provider(client)
    _, me = patient(client)
    first = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
    second = first + timedelta(hours=2)
    first_slot, second_slot = slot(client, provider_id, first), slot(client, provider_id, second)
    booking = {"slot_id": str(first_slot)}
    appointment = ok(client.post("/v1/appointments", json=booking, headers=me), 201)["id"]

    def confirmed() -> bool:
        found = {
            d["channel"]: d["status"]
            for d in deliveries(client, appointment)
            if d["kind"] == "confirmation"
        }
        return found == {"sms": "sent", "email": "sent", "in_app": "delivered"}

    waiting(notify_stack, confirmed, "the confirmation to be sent")
    waiting(notify_stack, lambda: len(planned_reminders(client, appointment)) == 6, "reminders")
    assert all(same_instant(s, first) for _, _, s in planned_reminders(client, appointment))

    move = {"new_slot_id": str(second_slot)}
    ok(client.post(f"/v1/appointments/{appointment}/reschedule", json=move, headers=me), 200)

    def moved() -> bool:
        planned = planned_reminders(client, appointment)
        return len(planned) == 6 and all(same_instant(s, second) for _, _, s in planned)

    waiting(notify_stack, moved, "the reminders to follow the reschedule")
    ok(client.post(f"/v1/appointments/{appointment}/cancel", json={"reason": "x"}, headers=me), 200)
    waiting(notify_stack, lambda: not planned_reminders(client, appointment), "no reminders")
    kinds = {d["kind"] for d in deliveries(client, appointment)}
    assert {"confirmation", "reschedule", "cancellation"} <= kinds


def outbox_keys(database: Database, keys: list[str]) -> list[str]:
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute(
            "SELECT key FROM notification_outbox WHERE key = ANY(%s)", (keys,)
        ).fetchall()
    return [row[0] for row in rows]


SENDER = ("notify-sender", "worker", "notify-sender", "--threads", "2")


def seats_booked(client: httpx.Client, seats: int) -> list[str]:
    """`seats` patients booked into one slot starting in 31 minutes (the 30 min reminder and
    check-in open fall due within a minute)."""
    provider_id = provider(client)
    start = (utcnow() + timedelta(minutes=31)).replace(microsecond=0)
    slot_id = slot(client, provider_id, start, capacity=seats)
    appointments = []
    for _ in range(seats):
        _, me = patient(client)
        booked = client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me)
        appointments.append(ok(booked, 201)["id"])
    return appointments


def kill_sender_and_restart(stack: Stack, seen: Any, sender: tuple[str, ...]) -> Any:
    """SIGKILL the send worker, note `seen()` once it is dead, start it again."""
    process = stack.processes[sender[0]]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stack.processes.pop(sender[0])
    noted = seen()
    stack.start(sender[0], *sender[1:])
    return noted


def test_a_send_worker_killed_mid_batch_sends_every_due_message_once(
    notify_stack: Stack, client: httpx.Client, database: Database
) -> None:
    seats = 30
    appointments = seats_booked(client, seats)

    def outbound() -> list[dict[str, Any]]:
        return [
            d
            for a in appointments
            for d in deliveries(client, a)
            if d["channel"] in ("sms", "email")
        ]

    # the confirmation, the 30 min reminder and check-in open, by SMS and by email
    expected = 3 * seats * 2
    waiting(notify_stack, lambda: len(outbound()) == expected, "every message to be planned", 60)

    def some_sent() -> bool:
        return any(d["status"] == "sent" for d in outbound())

    waiting(notify_stack, some_sent, "the first messages to leave")
    at_kill = kill_sender_and_restart(
        notify_stack, lambda: sum(d["status"] == "sent" for d in outbound()), SENDER
    )

    def settled() -> bool:
        found = outbound()
        return len(found) == expected and all(d["status"] not in PENDING for d in found)

    waiting(notify_stack, settled, "every message to be sent after the restart", 120)
    final = outbound()
    assert {d["status"] for d in final} == {"sent"}, (at_kill, final)
    keys = [d["id"] for d in final]
    recorded = outbox_keys(database, [str(k) for k in keys])
    assert sorted(recorded) == sorted(str(k) for k in keys)  # each once: none lost, none twice
