"""The reminder scheduler (issue 10): the due table is the schedule. Each tick claims the rows
due now (`FOR UPDATE SKIP LOCKED`, so several schedulers may run at once and each row goes to
one of them) and hands each to a send job; rows handed out long ago and never finished (a lost
enqueue, a worker killed mid-send) are handed out again, and the job's record keeps that from
sending twice. Nothing is scheduled as a delayed broker message."""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog

from commands.ports import Clock, SendQueue
from projections.notifications.deliveries import DeliveryStore

log = structlog.stdlib.get_logger("slotwise.notifications")


class Scheduler:
    def __init__(
        self,
        store: DeliveryStore,
        queue: SendQueue,
        clock: Clock,
        batch: int = 500,
        stuck_after: timedelta = timedelta(minutes=2),
    ) -> None:
        self.store = store
        self.queue = queue
        self.clock = clock
        self.batch = batch
        self.stuck_after = stuck_after

    def tick(self) -> int:
        """Hand every due row out (in batches); returns how many."""
        now = self.clock.now()
        handed = 0
        for delivery_id in self.store.stuck(now - self.stuck_after, self.batch):
            self.queue.enqueue(delivery_id)
            handed += 1
        while True:
            claimed = self.store.claim_due(now, self.batch)
            for delivery_id in claimed:
                self.queue.enqueue(delivery_id)
            handed += len(claimed)
            if len(claimed) < self.batch:
                return handed


def run_scheduler(scheduler: Scheduler, stop: threading.Event, interval: float = 1.0) -> None:
    while not stop.is_set():
        try:
            if scheduler.tick():
                continue  # more may be due already
        except Exception:
            # The database or the broker is away: nothing was lost (claimed rows stay queued
            # and are handed out again once stuck), the next tick retries.
            log.exception("notification scheduler failed; retrying", interval_s=interval)
        stop.wait(interval)
