"""The sealer: follows the event store in log order and seals every event that can no longer
change (chain hash, Merkle leaf), signing a checkpoint every N events or T seconds and writing
each one outside the database too. Its position is the head of the sealed log, committed with
the seals; killed at any point, it resumes from the last committed batch."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from projections.audit.checkpoint import NoteSigner
from projections.audit.sealing import CheckpointPolicy

log = logging.getLogger("slotwise.sealer")


class Batch(Protocol):
    @property
    def sealed(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def checkpoint(self) -> tuple[int, str] | None: ...
    @property
    def at_gap(self) -> bool: ...


class Checkpoints(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def note(self) -> str: ...


class SealStore(Protocol):
    def seal_batch(self, limit: int, policy: CheckpointPolicy, signer: NoteSigner) -> Batch: ...

    def confirm_gaps(self, lock_timeout_ms: int = 200) -> bool: ...

    def checkpoints(self) -> Iterable[Checkpoints]: ...


class CheckpointFiles(Protocol):
    def write(self, size: int, note: str) -> Any: ...

    def write_missing(self, checkpoints: Iterable[tuple[int, str]]) -> int: ...


def seal_once(
    store: SealStore,
    signer: NoteSigner,
    files: CheckpointFiles,
    policy: CheckpointPolicy,
    limit: int = 500,
) -> Batch:
    """One batch; a checkpoint it signs is written to the directory after its commit."""
    batch = store.seal_batch(limit, policy, signer)
    if batch.checkpoint is not None:
        files.write(*batch.checkpoint)
        log.info("checkpoint signed at size %d", batch.checkpoint[0])
    return batch


def run_sealer(
    store: SealStore,
    signer: NoteSigner,
    files: CheckpointFiles,
    policy: CheckpointPolicy,
    wait_for_new_events: Callable[[float], Any],
    stop: threading.Event,
    limit: int = 500,
    gap_patience: float = 0.0,
) -> None:
    """Seal until stopped: woken by LISTEN/NOTIFY, polling as a fallback (and at least as
    often as a timed checkpoint may fall due). A missing position is first waited for up to
    `gap_patience` seconds (an insert in flight fills it) before the lock that confirms it."""
    restored = files.write_missing((c.size, c.note) for c in store.checkpoints())
    if restored:
        log.info("wrote %d checkpoint file(s) missing from the directory", restored)
    backoff = 0.2
    idle_wait = max(0.05, min(1.0, policy.every_seconds))
    stuck_since: float | None = None
    while not stop.is_set():
        try:
            batch = seal_once(store, signer, files, policy, limit)
            backoff = 0.2
            if batch.at_gap and batch.sealed == 0:
                # A missing position: an insert in flight, or one rolled back for good.
                now = time.monotonic()
                stuck_since = stuck_since if stuck_since is not None else now
                if now - stuck_since < gap_patience:
                    stop.wait(0.05)
                    continue
                stuck_since = None
                if store.confirm_gaps():
                    log.info("positions missing before the log head are gaps; sealing on")
                else:
                    stop.wait(0.2)
                continue
            stuck_since = None
            if batch.sealed == 0:
                # Inside the handler too: the LISTEN connection is lost when the database is.
                wait_for_new_events(idle_wait)
        except Exception:
            log.exception("sealing failed; retrying from the sealed head in %.1fs", backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)
