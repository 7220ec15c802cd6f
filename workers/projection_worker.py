"""Runs the read-model projections (scheduling and analytics) from the event store's log until
stopped, each in a thread of its own with its own position.

A failing event stops that projection at that event: its position is not advanced, the error
is logged, and the runner restarts after a backoff and tries the same event again. The other
projection carries on meanwhile; a stop request, or one thread ending, ends them all."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from eventsourcing.projection import Projection, ProjectionRunner

from commands.scheduling import Scheduling
from projections.analytics import AnalyticsProjection
from projections.changes import RowView
from projections.scheduling import SchedulingProjection

log = logging.getLogger("slotwise.worker")

PROJECTIONS: tuple[type[Projection[RowView]], ...] = (SchedulingProjection, AnalyticsProjection)


def run_projection(
    env: Mapping[str, str], view_class: type[RowView], stop: threading.Event
) -> None:
    """Run every projection in `PROJECTIONS` until `stop` is set, then wait for all of them."""
    threads: list[threading.Thread] = []
    for projection in PROJECTIONS:
        tried = threading.Event()
        thread = threading.Thread(
            target=run_one,
            args=(projection, env, view_class, stop, tried),
            name=f"projection-{projection.name}",
        )
        thread.start()
        threads.append(thread)
        # One at a time until each has tried to start: on a fresh database the runners would
        # otherwise race each other to create the event store's tables.
        while not tried.wait(0.5) and not stop.is_set() and thread.is_alive():
            pass
    try:
        # Waiting on the event keeps the main thread free to run signal handlers that set it;
        # a thread that ends without being asked to stops the rest, so the process exits.
        while not stop.is_set() and all(thread.is_alive() for thread in threads):
            stop.wait(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def run_one(
    projection: type[Projection[RowView]],
    env: Mapping[str, str],
    view_class: type[RowView],
    stop: threading.Event,
    tried: threading.Event | None = None,
) -> None:
    """Run one projection with its own restart loop and backoff until `stop` is set.
    `tried` is set once the first attempt to start it has succeeded or failed."""
    tried = tried or threading.Event()
    backoff = 0.5
    while not stop.is_set():
        try:
            with ProjectionRunner(
                application_class=Scheduling,
                projection_class=projection,
                view_class=view_class,
                env=dict(env),
            ) as runner:
                tried.set()
                log.info("projection %s running", projection.name)
                backoff = 0.5
                while not stop.is_set():
                    runner.run_forever(timeout=0.5)
        except Exception:
            tried.set()
            log.exception(
                "projection %s stopped on an error; retrying in %.1fs", projection.name, backoff
            )
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
