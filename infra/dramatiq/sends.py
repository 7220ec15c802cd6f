"""Send jobs on dramatiq with the Redis broker: the scheduler enqueues a delivery's id, a worker
runs the send job with it. Transient failures are retried a bounded number of times with
exponential backoff; a job older than the age limit is dropped (the due table still holds the
row, and nothing is ever sent past its deadline); once retries are exhausted the delivery is
recorded as failed and falls back to the next channel. The broker carries ids only: no
personal data, and no schedule (the due table is the schedule)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from infra.notifications.settings import NotificationSettings

ACTOR = "send_notification"
QUEUE = "notifications"

# Runs a delivery's send job; `last_try` says no retry follows a transient failure.
Job = Callable[[UUID, bool], None]


class DramatiqSends:
    """The `SendQueue` port on dramatiq, and the worker that runs the jobs."""

    def __init__(
        self, url: str, settings: NotificationSettings, heartbeat_timeout_ms: int = 60_000
    ) -> None:
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url, heartbeat_timeout=heartbeat_timeout_ms, namespace=settings.redis_namespace
        )
        self.broker.add_middleware(CurrentMessage())
        self.settings = settings
        self._job: Job | None = None
        declare = dramatiq.actor(
            actor_name=ACTOR,
            queue_name=QUEUE,
            broker=self.broker,
            max_retries=settings.max_retries,
            min_backoff=settings.min_backoff_ms,
            max_backoff=settings.max_backoff_ms,
            max_age=settings.max_age_ms,
            time_limit=60_000,
        )
        self.actor = declare(self._perform)

    def enqueue(self, delivery_id: UUID) -> None:
        self.actor.send(str(delivery_id))

    def _perform(self, delivery_id: str) -> None:
        if self._job is None:
            raise RuntimeError("this process only enqueues send jobs")
        message = CurrentMessage.get_current_message()
        retries = 0 if message is None else int(message.options.get("retries", 0))
        self._job(UUID(delivery_id), retries >= self.settings.max_retries)

    def serve(self, job: Job, stop: threading.Event, threads: int = 4) -> None:
        """Run send jobs until `stop` is set."""
        self._job = job
        worker = dramatiq.Worker(self.broker, queues={QUEUE}, worker_threads=threads)
        worker.start()
        try:
            stop.wait()
        finally:
            worker.stop()

    def close(self) -> None:
        self.broker.close()
        # dramatiq leaves its Redis connections open; close them with the process's parts.
        self.broker.client.connection_pool.disconnect()
