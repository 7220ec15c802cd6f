"""The relay: follows the event store's log from its recorded position and publishes every
event, in log order, as an integration event keyed by its aggregate id.

The position advances only after every delivery up to it has been acknowledged; on any
failure the producer is recreated and the batch is sent again from the recorded position, so
events may be duplicated (consumers ignore duplicates) but never lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import structlog

from commands.scheduling import Scheduling
from projections.integration import Catalog, message_headers, message_key
from workers.resilience import always, keep_running

log = structlog.stdlib.get_logger("slotwise.relay")
RELAY_NAME = "kafka"


class Publisher(Protocol):
    def publish(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, str | bytes | None]]
    ) -> None: ...

    def flush(self, timeout: float) -> list[str]:
        """Wait for outstanding deliveries; return the failures since the last flush."""
        ...

    def recreate(self) -> None: ...


class PositionStore(Protocol):
    def get(self, name: str) -> int: ...

    def set(self, name: str, position: int) -> None: ...


class RelayFailedError(RuntimeError):
    """A batch could not be delivered; nothing past the recorded position was committed."""


def relay_batch(
    app: Scheduling,
    catalog: Catalog,
    publisher: Publisher,
    positions: PositionStore,
    limit: int = 500,
    flush_timeout: float = 15.0,
) -> int:
    """Publish the next batch after the recorded position; returns how many were published."""
    after = positions.get(RELAY_NAME)
    notifications = app.recorder.select_notifications(start=after + 1, limit=limit)
    if not notifications:
        return 0
    for notification in notifications:
        event = app.mapper.to_domain_event(notification)
        message = catalog.encode(event, notification.id)
        publisher.publish(
            catalog.topic_for(message.event_type),
            message_key(message),
            msgspec.json.encode(message),
            message_headers(message),
        )
    failures = publisher.flush(flush_timeout)
    if failures:
        raise RelayFailedError("; ".join(failures[:5]))
    positions.set(RELAY_NAME, notifications[-1].id)
    return len(notifications)


def run_relay(
    app: Scheduling,
    publisher: Publisher,
    positions: PositionStore,
    wait_for_new_events: Callable[[float], Any],
    stop: threading.Event,
) -> None:
    """Relay until stopped: woken by LISTEN/NOTIFY, polling as a fallback. Every failure (the
    broker or the database away, a delivery refused) is waited out with backoff; then the
    producer is recreated and the relay resends from its recorded position."""
    catalog = Catalog()

    def step() -> None:
        if relay_batch(app, catalog, publisher, positions) == 0:
            wait_for_new_events(1.0)

    # The relay never skips an event, so it has no poison to stop on: it retries everything.
    keep_running(step, stop, what="relay batch", transient=always, recover=publisher.recreate)
