"""Runs the scheduling projection from the event store's log until stopped.

A failing event stops the runner at that event: its position is not advanced, the error is
logged, and the runner restarts after a backoff and tries the same event again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from eventsourcing.projection import ProjectionRunner

from commands.scheduling import Scheduling
from projections.changes import RowView
from projections.scheduling import SchedulingProjection

log = logging.getLogger("slotwise.worker")


def run_projection(
    env: Mapping[str, str], view_class: type[RowView], stop: threading.Event
) -> None:
    backoff = 0.5
    while not stop.is_set():
        try:
            with ProjectionRunner(
                application_class=Scheduling,
                projection_class=SchedulingProjection,
                view_class=view_class,
                env=dict(env),
            ) as runner:
                log.info("projection %s running", SchedulingProjection.name)
                backoff = 0.5
                while not stop.is_set():
                    runner.run_forever(timeout=0.5)
        except Exception:
            log.exception(
                "projection %s stopped on an error; retrying in %.1fs",
                SchedulingProjection.name,
                backoff,
            )
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
