"""Verification of a sealed log: recompute every entry from the stored events, compare each with
what the sealer recorded, rebuild the tree and check it against every signed checkpoint.

The same walk serves the offline verifier (an export directory) and `verify --live` (the
database). It streams: memory stays O(log n) beyond the checkpoints themselves. It stops at the
first bad position, since every later leaf differs once one is removed, added or moved."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from projections.audit.chain import GENESIS, LogRecord, chain_hash
from projections.audit.checkpoint import Checkpoint, CheckpointError, NoteVerifier
from projections.audit.merkle import CompactRange, leaf_hash
from projections.audit.sealing import Seal


@dataclass(frozen=True)
class Finding:
    """What is wrong, and where: `kind` is one of changed, deleted, inserted, reordered, chain,
    signature, checkpoint, fork, truncated."""

    kind: str
    message: str
    position: int | None = None


@dataclass
class Report:
    events: int = 0
    sealed: int = 0
    origin: str | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_position(self) -> int | None:
        positions = [f.position for f in self.findings if f.position is not None]
        return min(positions) if positions else None


def _open_all(
    notes: Iterable[tuple[str, str]], verifier: NoteVerifier, origin: str | None, report: Report
) -> dict[int, list[tuple[str, Checkpoint]]]:
    by_size: dict[int, list[tuple[str, Checkpoint]]] = {}
    for source, note in notes:
        try:
            checkpoint = Checkpoint.parse(verifier.open(note))
        except CheckpointError as error:
            report.findings.append(Finding("signature", f"checkpoint {source}: {error}"))
            continue
        origin = origin or checkpoint.origin
        if checkpoint.origin != origin:
            msg = f"checkpoint {source} is for log {checkpoint.origin!r}, not {origin!r}"
            report.findings.append(Finding("signature", msg))
            continue
        by_size.setdefault(checkpoint.size, []).append((source, checkpoint))
    report.origin = origin
    return by_size


def _lookahead(records: Iterable[LogRecord]) -> Iterator[tuple[LogRecord, LogRecord | None]]:
    it = iter(records)
    current = next(it, None)
    while current is not None:
        following = next(it, None)
        yield current, following
        current = following


def _compare(record: LogRecord, after: LogRecord | None, seal: Seal, previous: int) -> Finding:
    """Why `record` is not the one sealed as `seal` (their positions differ)."""
    swapped = after is not None and after.position == seal.position < record.position
    if record.position <= previous or swapped:
        first = min(record.position, seal.position)
        msg = f"positions {seal.position} and {record.position} are out of log order"
        return Finding("reordered", msg, first)
    if record.position > seal.position:
        msg = f"the event at position {seal.position} was sealed but is missing from the log"
        return Finding("deleted", msg, seal.position)
    msg = f"the event at position {record.position} is not in the sealed log: it was inserted"
    return Finding("inserted", msg, record.position)


def verify(
    records: Iterable[LogRecord],
    seals: Iterable[Seal],
    notes: Iterable[tuple[str, str]],
    verifier: NoteVerifier,
    *,
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check `records` (the stored events in log order) against `seals` (the sealer's record)
    and the signed checkpoint `notes` ((source, note) pairs), accepting signatures `verifier`
    accepts."""
    report = Report()
    checkpoints = _open_all(notes, verifier, origin, report)
    seal_iter = iter(seals)
    tree, chained, previous = CompactRange(), GENESIS, 0
    matched: list[int] = []  # sizes whose root matched, ascending
    positions = {0: 0}  # tree size -> the last position in it, at checkpoint sizes
    mismatched: list[tuple[int, str]] = []
    stopped = False
    for record, after in _lookahead(records):
        seal = next(seal_iter, None)
        if seal is not None and seal.position != record.position:
            report.findings.append(_compare(record, after, seal, previous))
            stopped = True
            break
        entry = record.entry()
        leaf, chained = leaf_hash(entry), chain_hash(chained, entry)
        if seal is not None:
            if seal.leaf != leaf:
                msg = f"the stored bytes of the event at position {record.position} changed"
                report.findings.append(Finding("changed", msg, record.position))
                stopped = True
                break
            if seal.chain != chained or seal.index != tree.size:
                msg = f"the sealer's record at position {record.position} was altered"
                report.findings.append(Finding("chain", msg, record.position))
                stopped = True
                break
            report.sealed += 1
        tree.append(leaf)
        previous = record.position
        report.events += 1
        if progress is not None and report.events % 1000 == 0:
            progress(report.events)
        for source, checkpoint in checkpoints.get(tree.size, ()):
            positions[tree.size] = record.position
            if checkpoint.root == tree.root():
                matched.append(tree.size)
                report.checkpoints.append(checkpoint)
            else:
                mismatched.append((tree.size, source))
    if not stopped:
        leftover = next(seal_iter, None)
        if leftover is not None:
            msg = f"the event at position {leftover.position} was sealed but is missing"
            report.findings.append(Finding("deleted", msg, leftover.position))
        for size in sorted(s for s in checkpoints if s > tree.size):
            msg = f"a checkpoint signs {size} events but the log holds {tree.size}: events "
            msg += f"after position {previous} are missing"
            report.findings.append(Finding("truncated", msg, previous + 1))
    for size, source in mismatched:
        report.findings.append(_mismatch(size, source, matched, positions))
    if progress is not None:
        progress(report.events)
    return report


def _mismatch(size: int, source: str, matched: list[int], positions: dict[int, int]) -> Finding:
    good = max((s for s in matched if s < size), default=0)
    span = f"positions {positions[good] + 1} to {positions[size]}"
    later = [s for s in matched if s > size]
    if later:
        msg = f"checkpoint {source} (size {size}) is not a prefix of the checkpoint of size "
        msg += f"{later[0]}: it signs another history for {span}"
        return Finding("fork", msg, positions[good] + 1)
    msg = f"checkpoint {source} (size {size}) does not match the log: it was rewritten within "
    return Finding("checkpoint", msg + span, positions[good] + 1)
