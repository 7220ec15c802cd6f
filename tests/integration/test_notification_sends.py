"""Send jobs on a real Redis broker and a real dramatiq worker: a transient failure is retried
with backoff until it goes through; a permanent one is not retried and falls back (SMS → email
→ in-app); Twilio's 21610 records an opt-out; retries run out into a recorded failure."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

from commands.ports import (
    Accepted,
    Channels,
    DeliveryError,
    EmailMessage,
    PushMessage,
    TextMessage,
)
from infra.devstack.redis_server import redis_url
from infra.dramatiq.sends import DramatiqSends
from infra.notifications.settings import NotificationSettings
from tests.conftest import ROOT, wait_until
from tests.integration.notifications_support import (
    World,
    clock,
    policy_clock,
    pool,
    reader_app,
    runner,
    world,
)
from workers.notifications.processes import job_runner

__all__ = ["clock", "policy_clock", "pool", "reader_app", "runner", "world"]


class Flaky:
    """SMS and email that fail as told, then accept; they count every call."""

    def __init__(self) -> None:
        self.sms_errors: list[DeliveryError] = []
        self.email_errors: list[DeliveryError] = []
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def _call(self, channel: str, key: str, errors: list[DeliveryError]) -> Accepted:
        with self.lock:
            self.calls.append((channel, key))
            if errors:
                raise errors.pop(0)
        return Accepted(f"{channel}-{key}", "queued")

    def channels(self) -> Channels:
        flaky = self

        class Sms:
            def send(self, message: TextMessage) -> Accepted:
                return flaky._call("sms", message.key, flaky.sms_errors)

        class Email:
            def send(self, message: EmailMessage) -> Accepted:
                return flaky._call("email", message.key, flaky.email_errors)

        class Push:
            def send(self, message: PushMessage) -> Accepted:
                return flaky._call("push", message.key, [])

        return Channels(Sms(), Email(), Push())


@pytest.fixture
def sends() -> Iterator[DramatiqSends]:
    settings = NotificationSettings(
        max_retries=3, min_backoff_ms=50, max_backoff_ms=200, redis_namespace=f"t-{uuid.uuid4()}"
    )
    with redis_url(None, ROOT / ".state") as (url, _):
        queue = DramatiqSends(url, settings)
        try:
            yield queue
        finally:
            queue.close()


@pytest.fixture
def flaky(world: World, sends: DramatiqSends) -> Iterator[Flaky]:
    flaky = Flaky()
    world.job.channels = flaky.channels()
    world.job.enqueue = sends.enqueue
    opted: list[uuid.UUID] = []
    world.job.opt_out = lambda patient_id, channel: opted.append(patient_id)
    flaky.opted = opted  # type: ignore[attr-defined]
    stop = threading.Event()
    worker = threading.Thread(target=sends.serve, args=(job_runner(world.job), stop, 2))
    worker.start()
    yield flaky
    stop.set()
    worker.join()


def confirmations(world: World, appointment: uuid.UUID) -> dict[str, tuple[str, str | None, int]]:
    return {
        d.channel: (d.status, d.reason, d.attempts)
        for d in world.rows(appointment)
        if d.kind == "confirmation"
    }


def send_due(world: World, sends: DramatiqSends) -> None:
    for delivery_id in world.store.claim_due(world.clock.now(), 1000):
        sends.enqueue(delivery_id)


def settled(world: World, appointment: uuid.UUID, channels: set[str]) -> bool:
    found = confirmations(world, appointment)
    return channels <= set(found) and all(
        found[c][0] not in ("planned", "queued", "sending") for c in channels
    )


def test_a_transient_failure_is_retried_until_it_goes_through(
    world: World, sends: DramatiqSends, flaky: Flaky
) -> None:
    appointment, _, _ = world.booked()
    flaky.sms_errors = [DeliveryError("timeout", permanent=False)] * 2
    send_due(world, sends)
    wait_until(lambda: settled(world, appointment, {"sms", "email", "in_app"}), 20, "sends")
    assert confirmations(world, appointment)["sms"] == ("sent", None, 3)
    sms_calls = [c for c in flaky.calls if c[0] == "sms"]
    assert len(sms_calls) == 3
    assert len({key for _, key in sms_calls}) == 1  # one idempotency key for every try


def test_opted_out_at_twilio_is_not_retried_records_an_opt_out_and_falls_back(
    world: World, sends: DramatiqSends, flaky: Flaky
) -> None:
    appointment, patient_id, _ = world.booked()
    flaky.sms_errors = [DeliveryError("opted out", permanent=True, code="21610")]
    flaky.email_errors = [DeliveryError("mailbox refused", permanent=True, code="550")]
    send_due(world, sends)

    def fell_back() -> bool:
        rows = [d for d in world.rows(appointment) if d.kind == "confirmation"]
        return sum(1 for d in rows if d.fallback_of is not None) >= 2 and all(
            d.status not in ("planned", "queued", "sending") for d in rows
        )

    wait_until(fell_back, 20, "the fallbacks")
    rows = [d for d in world.rows(appointment) if d.kind == "confirmation"]
    sms = next(d for d in rows if d.channel == "sms")
    assert (sms.status, sms.reason, sms.attempts) == ("failed", "21610", 1)
    stand_ins = {d.channel: d.status for d in rows if d.fallback_of is not None}
    # SMS → email (the email fallback is sent), the email that failed → in-app
    assert stand_ins == {"email": "sent", "in_app": "delivered"}
    assert flaky.opted == [patient_id]  # type: ignore[attr-defined]


def test_retries_run_out_into_a_recorded_failure(
    world: World, sends: DramatiqSends, flaky: Flaky
) -> None:
    appointment, _, _ = world.booked()
    flaky.email_errors = [DeliveryError("server busy", permanent=False)] * 10
    send_due(world, sends)
    wait_until(lambda: settled(world, appointment, {"email"}), 30, "the retries to run out")
    status, reason, attempts = confirmations(world, appointment)["email"]
    assert (status, reason, attempts) == ("failed", "retries_exhausted", 4)
    assert len([c for c in flaky.calls if c[0] == "email"]) == 4  # the first try and 3 retries
