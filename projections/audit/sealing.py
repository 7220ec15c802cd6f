"""Sealing: extending the chain and the tree by the next stored events, which positions are safe
to seal, and when a checkpoint is due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from projections.audit.chain import GENESIS, LogRecord, chain_hash
from projections.audit.merkle import CompactRange, Node, leaf_hash


@dataclass(frozen=True)
class Seal:
    """Leaf `index` of a log: the stored event at `position`, its leaf hash and chain hash."""

    index: int
    position: int
    leaf: bytes
    chain: bytes


@dataclass
class Head:
    """How far a log is sealed: its size, the last sealed position, the chain hash there and
    the compact range that gives the tree's root."""

    size: int = 0
    position: int = 0
    chain: bytes = GENESIS
    tree: CompactRange = field(default_factory=CompactRange)


class OutOfOrderError(ValueError):
    """Records offered for sealing do not come after the head in log order."""


def seal(head: Head, records: Sequence[LogRecord], nodes: list[Node] | None = None) -> list[Seal]:
    """Seal `records` (in log order, after the head), advancing `head` in place; the perfect
    subtrees this completes are added to `nodes` when given."""
    seals = []
    for record in records:
        if record.position <= head.position:
            msg = f"position {record.position} comes after {head.position} in no log order"
            raise OutOfOrderError(msg)
        entry = record.entry()
        leaf = leaf_hash(entry)
        head.chain = chain_hash(head.chain, entry)
        completed = head.tree.append(leaf)
        if nodes is not None:
            nodes.extend(completed)
        seals.append(Seal(head.size, record.position, leaf, head.chain))
        head.size += 1
        head.position = record.position
    return seals


def sealable(after: int, positions: Sequence[int], horizon: int) -> int:
    """How many of `positions` (ascending, all after `after`) may be sealed now: each one must
    follow its predecessor with no gap, unless it is at or below `horizon`, the position below
    which every missing one is known never to appear (a rolled-back insert)."""
    count, previous = 0, after
    for position in positions:
        if position != previous + 1 and position > horizon:
            break
        count += 1
        previous = position
    return count


@dataclass(frozen=True)
class CheckpointPolicy:
    every_events: int
    every_seconds: float

    def batch_limit(self, size: int, limit: int) -> int:
        """At most `limit`, ending a batch at the next multiple of `every_events`: count
        checkpoints then fall on those sizes, however the batches ran (and restarts)."""
        return min(limit, self.every_events - size % self.every_events)

    def due(self, size: int, last_size: int, seconds_since_last: float | None) -> bool:
        """Whether to sign a checkpoint at `size`, the last one being at `last_size`
        (`seconds_since_last` is None when there is none yet)."""
        if size <= last_size:
            return False
        if size - last_size >= self.every_events or seconds_since_last is None:
            return True
        return seconds_since_last >= self.every_seconds
