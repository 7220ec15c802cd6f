"""Exactly once, counted where it matters: the send worker (`slotwise worker notify-sender`, a
real dramatiq worker process on Redis) runs the real Twilio adapter against the tests' local
Messages API (`TWILIO_API_BASE_URL`), which checks every request against Twilio's OpenAPI
description and keeps each one. A batch of messages falls due; the worker is killed with SIGKILL
in the middle of it and restarted. Every SMS delivery ends `sent`, and the server received
exactly one request for each, except at most one per worker thread that was between Twilio's
accept and the record at the kill (the documented window: Twilio takes no idempotency key);
those are flagged by the record (`attempts > 1`)."""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from infra.devstack.redis_server import redis_url
from infra.postgres.database import Database
from tests.conftest import ROOT, Stack
from tests.contracts.push_service import vapid_keys
from tests.contracts.smtp_server import Mailbox, smtp_server
from tests.contracts.twilio_described import twilio_serving
from tests.contracts.twilio_messages import TwilioMessagesServer
from tests.e2e.test_notifications_e2e import (
    PENDING,
    deliveries,
    kill_sender_and_restart,
    seats_booked,
    waiting,
)

ACCOUNT, TOKEN = "AC" + "e" * 32, "twilio-e2e-auth-token-0123456789"
THREADS = 2
SENDER = ("notify-sender", "worker", "notify-sender", "--threads", str(THREADS))
KINDS = {
    "Your appointment": "confirmation",
    "Reminder": "reminder_30m",
    "Check-in": "check_in_open",
}


@pytest.fixture(scope="module")
def twilio(stack: Stack) -> Iterator[TwilioMessagesServer]:
    private, _ = vapid_keys()
    with (
        redis_url(os.environ.get("REDIS_URL"), ROOT / ".state") as (url, _),
        twilio_serving(TwilioMessagesServer(ACCOUNT, ACCOUNT, TOKEN)) as server,
        smtp_server(Mailbox(), "plain") as smtp_port,
    ):
        added = {
            "REDIS_URL": url,
            "SLOTWISE_REDIS_NAMESPACE": f"slotwise-e2e-{uuid.uuid4().hex[:8]}",
            "SLOTWISE_NOTIFICATION_LEASE_SECONDS": "2",
            "SLOTWISE_NOTIFICATION_STUCK_SECONDS": "3",
            "SLOTWISE_NOTIFICATION_CHANNELS": "real",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_SMS_FROM": "+15005550006",
            "TWILIO_API_BASE_URL": server.base_url,
            "SLOTWISE_PUBLIC_BASE_URL": "https://slotwise.example.org",
            "SLOTWISE_SMTP_HOST": "127.0.0.1",
            "SLOTWISE_SMTP_PORT": str(smtp_port),
            "SLOTWISE_SMTP_SECURITY": "plain",
            "SLOTWISE_EMAIL_FROM": "Clinic <no-reply@clinic.example>",
            "SLOTWISE_VAPID_PRIVATE_KEY": private,
            "SLOTWISE_VAPID_SUBJECT": "mailto:ops@clinic.example",
        }
        before = {name: stack.env.get(name) for name in added}
        stack.env.update(added)
        stack.start("reminders", "worker", "reminders")
        stack.start("notify-scheduler", "worker", "notify-scheduler")
        stack.start(SENDER[0], *SENDER[1:])
        try:
            yield server
        finally:
            for name in ("notify-sender", "notify-scheduler", "reminders"):
                if name in stack.processes:
                    stack.stop(name)
            for name, value in before.items():
                if value is None:
                    stack.env.pop(name, None)
                else:
                    stack.env[name] = value


def attempts(database: Database, appointments: list[str]) -> dict[tuple[str, str], int]:
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute(
            "SELECT appointment_id::text, kind, attempts FROM notification_deliveries "
            "WHERE channel = 'sms' AND appointment_id::text = ANY(%s)",
            (appointments,),
        ).fetchall()
    return {(row[0], row[1]): row[2] for row in rows}


def delivery_of(body: str) -> tuple[str, str]:
    """(appointment id, kind) of an SMS body: its link names the appointment."""
    found = re.search(r"/appointments/([0-9a-f-]{36})", body)
    assert found is not None, body
    kind = next(k for prefix, k in KINDS.items() if body.startswith(prefix))
    return found.group(1), kind


def test_a_killed_twilio_send_worker_posts_each_due_sms_once(
    twilio: TwilioMessagesServer, stack: Stack, client: httpx.Client, database: Database
) -> None:
    seats = 30
    appointments = seats_booked(client, seats)

    def sms() -> list[dict[str, Any]]:
        return [d for a in appointments for d in deliveries(client, a) if d["channel"] == "sms"]

    expected = 3 * seats  # the confirmation, the 30 min reminder and check-in open
    waiting(stack, lambda: len(sms()) == expected, "every SMS to be planned", 60)
    waiting(stack, lambda: any(d["status"] == "sent" for d in sms()), "the first SMS to leave")
    at_kill = kill_sender_and_restart(stack, lambda: len(twilio.messages), SENDER)

    def settled() -> bool:
        found = sms()
        return len(found) == expected and all(d["status"] not in PENDING for d in found)

    waiting(stack, settled, "every SMS to be sent after the restart", 120)
    final = sms()
    assert {d["status"] for d in final} == {"sent"}, (at_kill, final)
    assert twilio.refusals == []
    posts = Counter(delivery_of(m["body"]) for m in twilio.messages)
    tries = attempts(database, appointments)
    assert set(posts) == set(tries)  # every SMS delivery reached the server, and nothing else
    twice = {key for key, count in posts.items() if count > 1}
    assert all(count <= 2 for count in posts.values()), posts
    assert len(twice) <= THREADS, twice  # only the jobs in flight at the kill
    assert all(tries[key] > 1 for key in twice)  # each flagged by the record
    sids = {m["sid"] for m in twilio.messages}
    assert all(d["provider_message_id"] in sids for d in final)
    print(f"{len(twilio.messages)} posts for {expected} SMS, {at_kill} before the kill, {twice}")
