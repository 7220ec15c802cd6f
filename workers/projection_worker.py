"""Runs the read-model projections (scheduling, analytics and search) from the event store's log
until stopped, each in a thread of its own with its own position.

A failing event stops that projection at that event: its position is not advanced, the error
is logged and reported (its status' last error, which /health and /metrics show), and the
runner restarts after a backoff and tries the same event again. The other projections carry on
meanwhile; a stop request, or one thread ending, ends them all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from contextlib import ExitStack, closing
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import TrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner

from commands.scheduling import Scheduling
from projections.analytics import AnalyticsProjection
from projections.changes import RowView
from projections.delivery import failure_summary
from projections.scheduling import SchedulingProjection
from projections.search_projection import AggregateAt, SearchSink, search_projection
from projections.video import VideoProjection
from projections.waitlist import WaitlistProjection

log = structlog.stdlib.get_logger("slotwise.worker")

PROJECTIONS: tuple[type[Projection[RowView]], ...] = (
    SchedulingProjection,
    AnalyticsProjection,
    VideoProjection,
    WaitlistProjection,
)

# Starts one projection's runner (and whatever it needs) on the stack, which closes them.
Start = Callable[[ExitStack], ProjectionRunner[Any, Any]]
# Records a projection's last error (None: it runs again).
Report = Callable[[str, str | None], None]


def aggregate_at(app: Application[UUID]) -> AggregateAt:
    """Loads aggregates from `app`'s event store as they were at a version."""

    def load(aggregate_id: UUID, version: int) -> object:
        found: object = app.repository.get(aggregate_id, version=version)
        return found

    return load


def runner_of(
    projection: type[Projection[Any]],
    view_class: type[TrackingRecorder],
    env: Mapping[str, str],
    app_class: type[Scheduling],
) -> Start:
    """`app_class` reads the log: Scheduling bound to the process's personal-data keys."""

    def start(stack: ExitStack) -> ProjectionRunner[Any, Any]:
        runner = ProjectionRunner(
            application_class=app_class,
            projection_class=projection,
            view_class=view_class,
            env=dict(env),
        )
        return stack.enter_context(runner)

    return start


def search_runner(
    view_class: type[SearchSink], env: Mapping[str, str], app_class: type[Scheduling]
) -> Start:
    """The search projection, which loads each event's aggregate through an application of its
    own (the runner constructs its application only after the projection)."""

    def start(stack: ExitStack) -> ProjectionRunner[Any, Any]:
        loader = stack.enter_context(closing(app_class(dict(env))))
        projection = search_projection(aggregate_at(loader))
        return runner_of(projection, view_class, env, app_class)(stack)

    return start


def run_projection(
    env: Mapping[str, str],
    app_class: type[Scheduling],
    view_class: type[RowView] | None,
    stop: threading.Event,
    search_view_class: type[SearchSink] | None = None,
    names: Collection[str] | None = None,
    report: Report | None = None,
) -> None:
    """Run the projections in `PROJECTIONS` (given their view; those in `names`, when given)
    and search (given its sink: PostgreSQL's, or OpenSearch's bound to its backend) until
    `stop` is set, then wait for all of them."""
    starts = {
        p.name: runner_of(p, view_class, env, app_class)
        for p in PROJECTIONS
        if view_class and (names is None or p.name in names)
    }
    if search_view_class is not None:
        starts["search"] = search_runner(search_view_class, env, app_class)
    threads: list[threading.Thread] = []
    for name, start in starts.items():
        tried = threading.Event()
        thread = threading.Thread(
            target=run_one,
            args=(name, start, stop, tried, report),
            name=f"projection-{name}",
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
    name: str,
    start: Start,
    stop: threading.Event,
    tried: threading.Event | None = None,
    report: Report | None = None,
    healthy_after: float = 5.0,
) -> None:
    """Run one projection with its own restart loop and backoff until `stop` is set.
    `tried` is set once the first attempt to start it has succeeded or failed. A runner up
    `healthy_after` seconds has got past any event that failed: its error is cleared."""
    tried = tried or threading.Event()
    report = report or (lambda *_: None)
    backoff = 0.5
    failing = True  # until it has run a while: clears an error left by an earlier process
    while not stop.is_set():
        try:
            with ExitStack() as stack:
                runner = start(stack)
                tried.set()
                log.info("projection running", projection=name)
                started = time.monotonic()
                while not stop.is_set():
                    runner.run_forever(timeout=0.5)
                    if failing and time.monotonic() - started > healthy_after:
                        failing, backoff = False, 0.5
                        report(name, None)
        except Exception as error:
            tried.set()
            log.exception(
                "projection stopped on an error; retrying", projection=name, backoff_s=backoff
            )
            failing = True
            _report(report, name, failure_summary(error))
            stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)


def _report(report: Report, name: str, error: str) -> None:
    try:
        report(name, error)
    except Exception:  # the database may be what failed; the log has the error
        log.warning("could not record the error of a projection", projection=name, exc_info=True)
