"""The direct runner's restart loop reports a failing projection (the error's kind and first
line only) while it retries, and clears the report once the projection runs again."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any

from workers.projection_worker import run_one


class Runner:
    def __init__(self, stop: threading.Event, runs: list[int]) -> None:
        self._stop = stop
        self._runs = runs

    def run_forever(self, timeout: float | None = None) -> None:
        self._runs.append(1)
        if len(self._runs) >= 5:
            self._stop.set()


def test_a_failing_projection_is_reported_while_it_retries_and_cleared_once_it_runs() -> None:
    stop = threading.Event()
    attempts: list[int] = []
    runs: list[int] = []
    reports: list[tuple[str, str | None]] = []

    def start(stack: ExitStack) -> Any:
        attempts.append(1)
        if len(attempts) <= 2:
            raise ValueError("cannot store this\nDETAIL: Key (name)=(Ada) already exists")
        return Runner(stop, runs)

    run_one(
        "scheduling",
        start,
        stop,
        report=lambda name, error: reports.append((name, error)),
        healthy_after=0.0,
    )

    # Reported twice while failing, by class and place only (no message, which may echo data),
    # then cleared once the projection runs.
    assert [name for name, _ in reports] == ["scheduling"] * 3
    failures = [error for _, error in reports[:2]]
    assert all(e is not None and e.startswith("ValueError at ") for e in failures)
    assert not any("Ada" in str(e) or "cannot store" in str(e) for e in failures)
    assert reports[2] == ("scheduling", None)
    assert len(attempts) == 3
