"""The notification processes' builders (issue 10): the reminder policy, the scheduler, the
send worker, and the channel choice every one of them shares."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg_pool import ConnectionPool

from commands.ports import Channels, Clock, SendQueue, SignedRequests, SystemClock
from commands.scheduling import Scheduling
from infra.bootstrap.base import Say, worker_parts
from infra.bootstrap.channels import real_channels
from infra.devstack.redis_server import redis_url
from infra.dramatiq.sends import DramatiqSends
from infra.notifications.recorder import Outbox, recording_channels
from infra.postgres.notifications.deliveries import PostgresBulkNotices, PostgresDeliveries
from infra.postgres.notifications.inbox import PostgresInbox
from infra.settings import Settings
from infra.twilio.signatures import TwilioSignatures

DEV_TWILIO_TOKEN = "slotwise-dev-twilio-auth-token"  # noqa: S105 - dev and test mode only


def recipient_key(settings: Settings) -> bytes:
    """Keys the address digests inbound messages are matched by (from the service's secret)."""
    return hashlib.sha256(b"slotwise-recipients:" + settings.jwt_secret.encode()).digest()


def signatures(settings: Settings) -> SignedRequests | None:
    """Twilio's signature check with TWILIO_AUTH_TOKEN (a development token in dev and test
    mode); None refuses every webhook."""
    token = settings.notifications.twilio_auth_token
    if token is None and settings.mode in ("dev", "test"):
        token = DEV_TWILIO_TOKEN
    return None if token is None else TwilioSignatures(token)


@dataclass(frozen=True)
class NotificationAdapters:
    """What the API's notification routes use (api.deps.NotificationServices)."""

    deliveries: PostgresDeliveries
    callbacks: PostgresDeliveries
    inbox: PostgresInbox
    recipients: PostgresInbox
    outbox: Outbox | None
    signatures: SignedRequests | None
    public_base_url: str
    recipient_key: bytes
    bulk: PostgresBulkNotices


def notification_adapters(settings: Settings, pool: ConnectionPool[Any]) -> NotificationAdapters:
    deliveries = PostgresDeliveries(pool)
    inbox = PostgresInbox(pool)
    outbox = Outbox(pool) if settings.dev else None
    return NotificationAdapters(
        deliveries,
        deliveries,
        inbox,
        inbox,
        outbox,
        signatures(settings),
        settings.notifications.public_base_url,
        recipient_key(settings),
        PostgresBulkNotices(pool, settings.notifications.bulk_notices_per_hour),
    )


def channels(settings: Settings, pool: ConnectionPool[Any]) -> Channels:
    """Dev mode (or SLOTWISE_NOTIFICATION_CHANNELS=recording): the recording outbox; otherwise
    the real adapters (Twilio, SMTP, web push), or a SetupError naming every missing setting."""
    if settings.notifications.channels == "recording":
        return recording_channels(pool)
    return real_channels(settings)


@contextmanager
def local_redis(settings: Settings, say: Say = print) -> Iterator[str]:
    """REDIS_URL, or 127.0.0.1:6379 if it answers, or a local server stopped with the `with`."""
    with redis_url(settings.notifications.redis_url, settings.state_dir) as (url, started):
        say(f"Redis at {url}" + (" (local redis-server)" if started else ""))
        yield url


@dataclass(frozen=True)
class SchedulerParts:
    store: PostgresDeliveries
    queue: SendQueue
    clock: Clock
    stuck_after: timedelta


@contextmanager
def notification_scheduler(settings: Settings, say: Say = print) -> Iterator[SchedulerParts]:
    with ExitStack() as stack:
        _, _, pool = worker_parts(settings, say, stack)
        url = stack.enter_context(local_redis(settings, say))
        sends = DramatiqSends(url, settings.notifications)
        stack.callback(sends.close)
        notes = settings.notifications
        yield SchedulerParts(
            PostgresDeliveries(pool, notes.lease_seconds),
            sends,
            SystemClock(),
            timedelta(seconds=notes.stuck_seconds),
        )


@dataclass(frozen=True)
class SenderParts:
    app: Scheduling
    store: PostgresDeliveries
    channels: Channels
    sends: DramatiqSends
    clock: Clock
    clinic: str
    link_base: str
    recipient_key: bytes


@contextmanager
def notification_sender(settings: Settings, say: Say = print) -> Iterator[SenderParts]:
    with ExitStack() as stack:
        _, app, pool = worker_parts(settings, say, stack, connections=4)
        url = stack.enter_context(local_redis(settings, say))
        sends = DramatiqSends(url, settings.notifications)
        stack.callback(sends.close)
        chosen = channels(settings, pool)
        say(f"notifications on {settings.notifications.channels} channels")
        notes = settings.notifications
        yield SenderParts(
            app,
            PostgresDeliveries(pool, notes.lease_seconds),
            chosen,
            sends,
            SystemClock(),
            notes.clinic_name,
            notes.patient_app_url,
            recipient_key(settings),
        )
