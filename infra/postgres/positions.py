"""One listener per process for read-your-writes waits.

A read that asks for a log position its projection has not applied yet waits on an asyncio
future, holding no thread and no pooled connection. One task LISTENs on the channel the
projections NOTIFY in the transaction that records their position (infra.postgres.tracking)
and wakes the waiters a position satisfies. A second connection reads every position and the
log's head when a new waiter needs a fresh answer (coalesced: one read serves every waiter
that arrived before it started), and, while anyone waits, every `poll_seconds` in case a
notification was missed (a reconnect, a writer that does not announce)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from domain.log import APPLICATION_NAME
from infra.postgres.tracking import POSITIONS_CHANNEL, tracking_table
from projections.positions import BeyondLogHeadError, TooManyWaitersError

log = logging.getLogger("slotwise.positions")


@dataclass(frozen=True)
class Snapshot:
    head: int
    positions: dict[str, int]


class LogPositions:
    """The `projections.positions.PositionWaits` of a process, on PostgreSQL. Use it as an
    async context manager in the event loop its waiters run in."""

    def __init__(
        self,
        conninfo: str,
        events_table: str,
        projections: Collection[str],
        *,
        max_waiters: int,
        poll_seconds: float = 0.5,
    ) -> None:
        self._conninfo = conninfo
        self._events_table = events_table
        self._projections = tuple(projections)
        self._max_waiters = max_waiters
        self._poll_seconds = poll_seconds
        self._seen: dict[str, int] = {}
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._waiting = 0
        self._next: asyncio.Future[Snapshot] | None = None
        self._read_wanted = asyncio.Event()
        self._reader: psycopg.AsyncConnection[Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def waiting(self) -> int:
        return self._waiting

    async def __aenter__(self) -> LogPositions:
        self._tasks = [
            asyncio.create_task(self._listen(), name="positions-listener"),
            asyncio.create_task(self._read_loop(), name="positions-reader"),
        ]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._reader is not None:
            await self._reader.close()

    async def wait_for(self, projection: str, position: int, timeout: float) -> bool:
        if self._seen.get(projection, 0) >= position:
            return True
        if self._waiting >= self._max_waiters:
            raise TooManyWaitersError(
                f"{self._waiting} reads are already waiting for positions; retry shortly"
            )
        self._waiting += 1
        try:
            async with asyncio.timeout(timeout):
                return await self._wait(projection, position)
        except TimeoutError:
            return False
        except (psycopg.Error, OSError):
            log.warning("cannot read the projections' positions", exc_info=True)
            return False
        finally:
            self._waiting -= 1

    async def _wait(self, projection: str, position: int) -> bool:
        snapshot = await asyncio.shield(self._request_read())
        if snapshot.positions.get(projection, 0) >= position:
            return True
        if position > snapshot.head:
            raise BeyondLogHeadError(position, snapshot.head)
        reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (position, reached)
        self._waiters.setdefault(projection, []).append(waiter)
        try:
            if self._seen.get(projection, 0) < position:  # announced meanwhile?
                await reached
            return True
        finally:
            self._waiters[projection].remove(waiter)

    def _advance(self, projection: str, position: int) -> None:
        if position <= self._seen.get(projection, 0):
            return
        self._seen[projection] = position
        for wanted, reached in self._waiters.get(projection, ()):
            if wanted <= position and not reached.done():
                reached.set_result(None)

    # --- fresh reads, coalesced --------------------------------------------------------------

    def _request_read(self) -> asyncio.Future[Snapshot]:
        """A read of every position and the head that starts after this call."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            # A read nobody awaits (a poll) must not log "exception never retrieved".
            self._next.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._read_wanted.set()
        return self._next

    async def _read_loop(self) -> None:
        while True:
            await self._read_wanted.wait()
            self._read_wanted.clear()
            batch, self._next = self._next, None
            if batch is None:
                continue
            try:
                snapshot = await self._read()
            except (psycopg.Error, OSError) as error:
                await self._drop_reader()
                batch.set_exception(error)
                continue
            for projection, position in snapshot.positions.items():
                self._advance(projection, position)
            batch.set_result(snapshot)

    async def _read(self) -> Snapshot:
        if self._reader is None or self._reader.closed:
            self._reader = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        conn = self._reader
        query = sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}")
        row = await (
            await conn.execute(query.format(sql.Identifier(self._events_table)))
        ).fetchone()
        head = int(row[0]) if row else 0
        positions = {}
        for projection in self._projections:
            table = tracking_table(projection)
            found = await (await conn.execute("SELECT to_regclass(%s)", (table,))).fetchone()
            if not found or found[0] is None:
                continue  # not started yet: position 0
            select = sql.SQL("SELECT notification_id FROM {} WHERE application_name = %s")
            cursor = await conn.execute(select.format(sql.Identifier(table)), (APPLICATION_NAME,))
            row = await cursor.fetchone()
            positions[projection] = int(row[0]) if row and row[0] is not None else 0
        return Snapshot(head, positions)

    async def _drop_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(psycopg.Error):
                await self._reader.close()
        self._reader = None

    # --- the listener --------------------------------------------------------------------------

    async def _listen(self) -> None:
        pause = 0.1
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with conn:
                    await conn.execute(
                        sql.SQL("LISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL))
                    )
                    pause = 0.1
                    self._request_read()  # what was announced while nobody listened
                    while True:
                        async for note in conn.notifies(timeout=self._poll_seconds):
                            self._announced(note.payload)
                        if self._waiting:
                            self._request_read()
            except (psycopg.Error, OSError):
                log.warning("position listener lost its connection; reconnecting in %.1fs", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    def _announced(self, payload: str) -> None:
        projection, _, position = payload.rpartition(":")
        if projection and position.isdigit():
            self._advance(projection, int(position))
