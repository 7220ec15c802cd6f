"""Row changes a projection asks its view to make, all in one transaction with the position.

Projections decide *what* changes (pure, unit-testable); the view in infra/ decides *how*."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder


@dataclass(frozen=True)
class Upsert:
    table: str
    key: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    table: str
    key: dict[str, Any]
    values: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    table: str
    key: dict[str, Any]


Change = Upsert | Update | Delete


class RowView(TrackingRecorder, ABC):
    """A read-model store that applies changes and records the tracking position atomically."""

    @abstractmethod
    def apply(self, changes: Sequence[Change], tracking: Tracking) -> None:
        """Make the changes and record `tracking` in one transaction."""
