"""Reads waiting for a log position, against the real API process: many of them at once hold
no thread and no connection, so other reads answer as fast as before; they are all answered
once the projection worker (started later) applies the position; and a position past the
log's head is refused at once with the head.

The API runs on a database of its own with no projection worker at first, so the position
a command answers stays unapplied for as long as the test wants."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.postgres.database import Database
from infra.postgres.server import PostgresLocation
from tests.conftest import Stack, wait_until
from tests.databases import database_of_its_own
from tests.scenario import STAFF

WAITERS = 60
WAIT_SECONDS = 60  # the API's read wait: a waiter answered 200 was woken, not timed out


@pytest.fixture
def api_alone(pg_location: PostgresLocation, tmp_path: Path) -> Iterator[Stack]:
    """The API as a real process on a fresh database, no projection worker running yet."""
    with database_of_its_own(pg_location, "read_waits") as db:
        stack = fresh_stack(db, tmp_path)
        stack.start("api", "serve")
        try:
            wait_until(stack.healthy, timeout=90, what="the API to answer /health")
            yield stack
        except AssertionError:
            raise AssertionError(stack.logs()) from None
        finally:
            for name in list(stack.processes):
                stack.stop(name)


def fresh_stack(db: Database, log_dir: Path) -> Stack:
    stack = Stack(db, log_dir)
    stack.env["SLOTWISE_READ_WAIT_SECONDS"] = str(WAIT_SECONDS)
    stack.env["SLOTWISE_POOL_SIZE"] = "4"
    return stack


async def waiters(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text
    found = re.search(r"^slotwise_read_waiters (\S+)$", metrics, re.MULTILINE)
    assert found, metrics
    return float(found.group(1))


async def plain_read(client: httpx.AsyncClient) -> float:
    started = time.monotonic()
    response = await client.get("/v1/appointments", headers=STAFF)
    assert response.status_code == 200, response.text
    return time.monotonic() - started


async def scenario(stack: Stack) -> None:
    limits = httpx.Limits(max_connections=WAITERS + 10)
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=WAIT_SECONDS + 30, limits=limits
    ) as client:
        body = {"profile": {"name": "Dr Ada Lovelace", "time_zone": "Europe/Berlin"}}
        registered = await client.post("/v1/providers", json=body, headers=STAFF)
        assert registered.status_code == 201, registered.text
        head = int(registered.json()["position"])
        baseline = statistics.median([await plain_read(client) for _ in range(10)])

        waiting = [
            asyncio.create_task(
                client.get("/v1/appointments", params={"min_position": head}, headers=STAFF)
            )
            for _ in range(WAITERS)
        ]
        deadline = time.monotonic() + 30
        while await waiters(client) < WAITERS:
            assert time.monotonic() < deadline, "the reads never all waited"
            await asyncio.sleep(0.05)
        during = [await plain_read(client) for _ in range(10)]
        beyond_started = time.monotonic()
        beyond = await client.get(
            "/v1/appointments", params={"min_position": head + 1000}, headers=STAFF
        )
        beyond_took = time.monotonic() - beyond_started
        assert not any(task.done() for task in waiting), "a waiting read was answered early"

        stack.start(
            "worker", "worker", "project", "scheduling", "analytics", "search", "--source", "log"
        )
        answered = await asyncio.gather(*waiting)

    # Generous: 60 waiting reads may cost the event loop a little, never a worker thread.
    assert statistics.median(during) < 5 * baseline + 0.25, (baseline, during)
    assert max(during) < 20 * baseline + 1.0, (baseline, during)
    assert beyond.status_code == 422, beyond.text
    problem = beyond.json()
    assert problem["type"].endswith("/position-beyond-head")
    assert problem["head"] == head
    assert beyond_took < 5 * baseline + 0.25
    assert [r.status_code for r in answered] == [200] * WAITERS


def test_reads_waiting_for_a_position_do_not_slow_other_reads_and_are_answered_when_it_comes(
    api_alone: Stack,
) -> None:
    try:
        asyncio.run(scenario(api_alone))
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{api_alone.logs()}") from None
