"""Read your writes: waiting until a projection has applied a log position, as a port the
read side awaits (one adapter per process wakes every waiter; none holds a thread or a
connection while it waits)."""

from __future__ import annotations

from typing import Protocol


class BeyondLogHeadError(Exception):
    """The position asked for is past the last event in the log: no waiting reaches it."""

    def __init__(self, position: int, head: int) -> None:
        super().__init__(
            f"min_position {position} is beyond the log's last position {head}; a command "
            "answers the position to wait for"
        )
        self.position = position
        self.head = head


class TooManyWaitersError(Exception):
    """As many reads as allowed are already waiting for positions; retry shortly."""


class PositionWaits(Protocol):
    @property
    def waiting(self) -> int:
        """How many reads are waiting now."""
        ...

    async def wait_for(self, projection: str, position: int, timeout: float) -> bool:
        """True once `projection` has applied `position`, False if it has not within
        `timeout` seconds. Raises BeyondLogHeadError for a position past the log's head and
        TooManyWaitersError when the bound on waiting reads is reached."""
        ...
