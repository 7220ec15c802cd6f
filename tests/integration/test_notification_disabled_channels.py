"""A clinic that does not use a channel (SLOTWISE_CHANNELS_ENABLED): its deliveries are skipped
with reason `channel_disabled` and fall back as a permanent failure would (SMS → email →
in-app), through the real reminder policy, delivery store and send job on PostgreSQL; nothing
reaches the disabled channel's sender."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from tests.integration.notifications_support import (
    World,
    clock,
    policy_clock,
    pool,
    reader_app,
    runner,
    world,
)

__all__ = ["clock", "policy_clock", "pool", "reader_app", "runner", "world"]


def confirmations(
    world: World, appointment: UUID
) -> dict[tuple[str, bool], tuple[str, str | None]]:
    """(channel, is a fallback) → (status, reason) of the booking confirmation's deliveries."""
    return {
        (d.channel, d.fallback_of is not None): (d.status, d.reason)
        for d in world.rows(appointment)
        if d.kind == "confirmation"
    }


def sent_to(world: World, channel: str) -> int:
    with world.store.pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM notification_outbox WHERE channel = %s", (channel,)
        ).fetchone()
    return 0 if row is None else int(row[0])


def test_a_disabled_sms_channel_is_skipped_and_falls_back_to_email(world: World) -> None:
    world.job.channels = dataclasses.replace(world.job.channels, disabled=frozenset({"sms"}))
    texts = sent_to(world, "sms")
    appointment, _, _ = world.booked()
    world.drain()
    found = confirmations(world, appointment)
    assert found[("sms", False)] == ("skipped", "channel_disabled")
    assert found[("email", True)] == ("sent", None)  # the stand-in for the SMS
    assert found[("email", False)] == ("sent", None)
    assert found[("in_app", False)] == ("delivered", None)
    assert sent_to(world, "sms") == texts


def test_with_sms_and_email_disabled_the_message_reaches_the_inbox(world: World) -> None:
    disabled = frozenset({"sms", "email"})
    world.job.channels = dataclasses.replace(world.job.channels, disabled=disabled)
    texts, mails = sent_to(world, "sms"), sent_to(world, "email")
    appointment, _, _ = world.booked()
    world.drain()
    found = confirmations(world, appointment)
    assert found[("sms", False)] == ("skipped", "channel_disabled")
    assert found[("email", False)] == ("skipped", "channel_disabled")
    assert found[("email", True)] == ("skipped", "channel_disabled")
    assert found[("in_app", True)] == ("delivered", None)
    assert (sent_to(world, "sms"), sent_to(world, "email")) == (texts, mails)
