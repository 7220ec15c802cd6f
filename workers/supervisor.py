"""The development supervisor behind `slotwise run`: it keeps each child process running,
restarting one that exits with an exponential backoff, so one failing worker never takes the
API or the other workers down. Only its own SIGINT or SIGTERM stops everything."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("slotwise.supervisor")

Spawn = Callable[[Sequence[str]], "subprocess.Popen[bytes]"]


@dataclass
class Backoff:
    """Delays before restarting a child: `first`, doubled at each consecutive failure up to
    `cap`; a child that ran `healthy_after` seconds starts over from `first`."""

    first: float = 1.0
    cap: float = 30.0
    healthy_after: float = 60.0
    failures: int = 0

    def after_exit(self, ran_for: float) -> float:
        if ran_for >= self.healthy_after:
            self.failures = 0
        delay = min(self.first * 2.0**self.failures, self.cap)
        if delay < self.cap:
            self.failures += 1
        return delay


@dataclass
class Child:
    name: str
    args: Sequence[str]
    backoff: Backoff
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    restarts: int = field(default=0)


def supervise(
    children: Sequence[tuple[str, Sequence[str]]],
    spawn: Spawn,
    stop: threading.Event,
    backoff: Callable[[], Backoff] = Backoff,
    tick: float = 0.25,
    grace: float = 20.0,
) -> None:
    """Start every child, keep them running until `stop` is set, then stop them all."""
    running = [Child(name, args, backoff()) for name, args in children]
    try:
        for child in running:
            _start(child, spawn)
        while not stop.wait(tick):
            now = time.monotonic()
            for child in running:
                _tend(child, spawn, now)
    finally:
        _stop_all(running, grace)


def _start(child: Child, spawn: Spawn) -> None:
    child.process = spawn(child.args)
    child.started_at = time.monotonic()
    child.restart_at = None


def _tend(child: Child, spawn: Spawn, now: float) -> None:
    if child.restart_at is not None:
        if now >= child.restart_at:
            child.restarts += 1
            log.warning("restarting %s (restart %d)", child.name, child.restarts)
            _start(child, spawn)
        return
    code = child.process.poll() if child.process else 0
    if code is None:
        return
    delay = child.backoff.after_exit(now - child.started_at)
    log.warning("%s exited with status %s; restarting in %.1fs", child.name, code, delay)
    child.process = None
    child.restart_at = now + delay


def _stop_all(children: Sequence[Child], grace: float) -> None:
    alive = [c.process for c in children if c.process and c.process.poll() is None]
    for process in alive:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in alive:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
