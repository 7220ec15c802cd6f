"""How far each reader of the event log has got: the projections and the Kafka relay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PROJECTION_NAMES = ("scheduling", "analytics")
# What `slotwise projections rebuild` rebuilds: the row projections and the video visits'.
REBUILDABLE = (*PROJECTION_NAMES, "video")


@dataclass(frozen=True)
class Progress:
    name: str
    kind: str  # "projection", "relay" or "sealer" (named by its log's origin)
    position: int
    lag_events: int
    # Age of the oldest event not yet applied; 0 when caught up.
    lag_seconds: float
    last_error: str | None
    dead_letters: int
    # Dead letters it is stopped before (open, or waiting for a retry): it applies nothing more
    # until an operator acts (`slotwise deadletters`).
    open_dead_letters: int = 0

    @property
    def stopped(self) -> bool:
        return self.open_dead_letters > 0

    @property
    def degraded(self) -> bool:
        """Stopped, or its last attempt failed: its read model is falling behind."""
        return self.stopped or self.last_error is not None


@dataclass(frozen=True)
class LogStatus:
    head: int
    readers: list[Progress]


class StatusQueries(Protocol):
    def status(self) -> LogStatus: ...
