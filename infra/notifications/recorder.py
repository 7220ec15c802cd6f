"""Dev mode's channels: every SMS, WhatsApp message, email and push message is recorded in the
`notification_outbox` table instead of leaving (`slotwise notifications outbox` and
`GET /v1/dev/outbox` show it). One row per idempotency key: sending a key twice records once and
answers with the first record, as a provider honouring idempotency keys would."""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from commands.ports import (
    Accepted,
    Channels,
    EmailMessage,
    PushMessage,
    TextMessage,
)
from projections.notifications.deliveries import OutboxEntry

RECORD = """
WITH added AS (
    INSERT INTO notification_outbox (key, channel, recipient, subject, body)
    VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id)
SELECT id FROM added UNION ALL SELECT id FROM notification_outbox WHERE key = %s
"""


class Outbox:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def record(
        self, key: str, channel: str, recipient: str, subject: str | None, body: str
    ) -> Accepted:
        with self.pool.connection() as conn:
            row = conn.execute(RECORD, (key, channel, recipient, subject, body, key)).fetchone()
        assert row is not None  # noqa: S101 - inserted or found
        return Accepted(f"outbox-{row[0]}", "delivered")

    def recent(self, limit: int = 50) -> list[OutboxEntry]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, key, channel, recipient, subject, body, recorded_at "
                "FROM notification_outbox ORDER BY id DESC LIMIT %s",
                (limit,),
            ).fetchall()
        return [OutboxEntry(*row) for row in rows]


class RecordingSms:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def send(self, message: TextMessage) -> Accepted:
        return self.outbox.record(message.key, message.channel, message.to, None, message.body)


class RecordingEmail:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def send(self, message: EmailMessage) -> Accepted:
        return self.outbox.record(message.key, "email", message.to, message.subject, message.text)


class RecordingPush:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def send(self, message: PushMessage) -> Accepted:
        endpoint = message.subscription.endpoint
        return self.outbox.record(message.key, "push", endpoint, message.title, message.body)


def recording_channels(pool: ConnectionPool[Any]) -> Channels:
    outbox = Outbox(pool)
    return Channels(RecordingSms(outbox), RecordingEmail(outbox), RecordingPush(outbox))
