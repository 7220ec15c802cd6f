"""Read-your-writes waits on PostgreSQL (infra.postgres.positions): waiting reads are woken by
the NOTIFY each projection writer sends in the transaction that records its position, a
position past the log's head is refused at once, and the number of waiting reads is bounded.

The fallback poll is set far beyond the tests' timeouts, so only an announcement can wake a
waiter in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from infra.postgres.database import Database, events_table, eventstore_env
from infra.postgres.positions import LogPositions
from infra.postgres.projection_state import PostgresProjectionState
from infra.postgres.rebuild import rebuild
from infra.postgres.rows import PostgresRowView
from infra.postgres.server import PostgresLocation
from projections.analytics import AnalyticsProjection
from projections.positions import BeyondLogHeadError, TooManyWaitersError
from projections.scheduling import SchedulingProjection
from tests.builders import register_provider
from tests.databases import database_of_its_own

TRACKED = ("scheduling", "analytics", "search")
NO_POLL = 3600.0
WAIT = 20.0  # the waits' timeout: a waiter answered well before it was woken


@pytest.fixture
def db(pg_location: PostgresLocation) -> Iterator[Database]:
    with database_of_its_own(pg_location, "positions") as own:
        yield own


@pytest.fixture
def log(db: Database) -> Iterator[Scheduling]:
    app = Scheduling(eventstore_env(db, 2))
    try:
        yield app
    finally:
        app.close()


def positions(db: Database, log: Scheduling, max_waiters: int = 100) -> LogPositions:
    return LogPositions(
        db.conninfo, events_table(log), TRACKED, max_waiters=max_waiters, poll_seconds=NO_POLL
    )


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def project_directly(db: Database, head: int) -> None:
    with ProjectionRunner(
        application_class=Scheduling,
        projection_class=SchedulingProjection,
        view_class=PostgresRowView,
        env=eventstore_env(db, 2),
    ) as runner:
        runner.wait(head, timeout=30)


def kafka_worker_moves_the_watermark(db: Database, head: int) -> None:
    with ConnectionPool(db.conninfo, min_size=1, max_size=1) as pool:
        PostgresProjectionState(pool, "scheduling").set_watermark(head)


def rebuild_swaps_in(db: Database, head: int) -> None:
    with Scheduling(eventstore_env(db, 2)) as log:
        assert rebuild(db.conninfo, log, "scheduling").position == head


@pytest.mark.parametrize(
    "writer", [project_directly, kafka_worker_moves_the_watermark, rebuild_swaps_in]
)
def test_a_waiting_read_is_woken_when_a_writer_records_the_position(
    db: Database, log: Scheduling, writer: Callable[[Database, int], None]
) -> None:
    register_provider(log)
    head = log.head_position()

    async def scenario() -> tuple[bool, float]:
        async with positions(db, log) as waits:
            started = time.monotonic()
            waiting = asyncio.create_task(waits.wait_for("scheduling", head, WAIT))
            await until(lambda: waits.waiting == 1, "the read to wait")
            await asyncio.sleep(0)
            assert not waiting.done()
            await asyncio.to_thread(writer, db, head)
            return await waiting, time.monotonic() - started

    reached, took = asyncio.run(scenario())

    assert reached
    assert took < WAIT / 2


def test_a_position_already_applied_answers_at_once_and_another_projections_does_not(
    db: Database, log: Scheduling
) -> None:
    register_provider(log)
    head = log.head_position()
    project_directly(db, head)

    async def scenario() -> tuple[bool, bool]:
        async with positions(db, log) as waits:
            applied = await waits.wait_for("scheduling", head, WAIT)
            other = await waits.wait_for(AnalyticsProjection.name, head, 0.2)
            return applied, other

    assert asyncio.run(scenario()) == (True, False)


def test_a_position_beyond_the_head_is_refused_at_once_with_the_head(
    db: Database, log: Scheduling
) -> None:
    register_provider(log)
    head = log.head_position()

    async def scenario() -> BeyondLogHeadError:
        async with positions(db, log) as waits:
            with pytest.raises(BeyondLogHeadError) as refused:
                await asyncio.wait_for(waits.wait_for("scheduling", head + 1, WAIT), 5)
            assert waits.waiting == 0
            return refused.value

    refused = asyncio.run(scenario())
    assert (refused.position, refused.head) == (head + 1, head)


def test_waiting_reads_are_bounded_and_a_timed_out_one_frees_its_place(
    db: Database, log: Scheduling
) -> None:
    register_provider(log)
    head = log.head_position()

    async def scenario() -> list[bool]:
        async with positions(db, log, max_waiters=2) as waits:
            waiting = [
                asyncio.create_task(waits.wait_for("scheduling", head, timeout))
                for timeout in (0.5, WAIT)
            ]
            await until(lambda: waits.waiting == 2, "two reads to wait")
            with pytest.raises(TooManyWaitersError):
                await waits.wait_for("scheduling", head, WAIT)
            first = await waiting[0]  # times out, and frees its place
            third = asyncio.create_task(waits.wait_for("scheduling", head, WAIT))
            await until(lambda: waits.waiting == 2, "the third read to wait")
            await asyncio.to_thread(project_directly, db, head)
            return [first, await waiting[1], await third]

    assert asyncio.run(scenario()) == [False, True, True]


def test_reads_waiting_at_once_share_one_fresh_read_of_the_positions(
    db: Database, log: Scheduling
) -> None:
    register_provider(log)
    head = log.head_position()
    reads = 0

    class Counting(LogPositions):
        async def _read(self) -> object:  # type: ignore[override]
            nonlocal reads
            reads += 1
            return await super()._read()

    async def scenario() -> list[bool]:
        waits = Counting(
            db.conninfo, events_table(log), TRACKED, max_waiters=100, poll_seconds=NO_POLL
        )
        async with waits:
            await until(lambda: reads == 1, "the listener's first read")
            many: list[Awaitable[bool]] = [
                waits.wait_for("scheduling", head, WAIT) for _ in range(50)
            ]
            gathered = asyncio.gather(*many)
            await until(lambda: waits.waiting == 50, "fifty reads to wait")
            await asyncio.to_thread(project_directly, db, head)
            return list(await gathered)

    assert asyncio.run(scenario()) == [True] * 50
    assert reads <= 3, f"{reads} reads of the positions for 50 waiting reads"
