"""How a long-running worker outlives a database or broker restart: it repeats one step until
stopped, waits out a transient error with jittered exponential backoff, recovers (reconnects,
rewinds to its tracked position) and carries on. Any other error ends the loop: a poisoned
event is not an outage, and waiting would hide it.

What counts as transient is the composition root's to say (it knows the drivers)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_when_event_set,
    wait_exponential_jitter,
)

log = logging.getLogger("slotwise.resilience")

Transient = Callable[[BaseException], bool]
INITIAL_WAIT = 0.2
MAX_WAIT = 5.0


def never(_: BaseException) -> bool:
    return False


def always(_: BaseException) -> bool:
    return True


def any_of(*predicates: Transient) -> Transient:
    def transient(error: BaseException) -> bool:
        return any(p(error) for p in predicates)

    return transient


def _sleep(stop: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        stop.wait(seconds)  # a stop request ends the wait at once

    return sleep


def _report(what: str) -> Callable[[RetryCallState], None]:
    def report(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        # The error's type and first line only: driver messages can quote the data.
        first = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
        log.warning(
            "%s failed (attempt %d: %s: %s); retrying in %.1fs",
            what,
            state.attempt_number,
            type(error).__name__,
            first[:200],
            wait,
            # The trace once per outage, for operators; the repeats say only that it goes on.
            exc_info=error if state.attempt_number == 1 else None,
        )

    return report


def keep_running(
    step: Callable[[], object],
    stop: threading.Event,
    *,
    what: str,
    transient: Transient,
    recover: Callable[[], object] | None = None,
) -> None:
    """Call `step` until `stop` is set. After a transient error, wait (backing off while the
    errors go on), then call `recover` before the next step; any other error is raised."""
    failed = False

    def attempt() -> None:
        nonlocal failed
        if failed and recover is not None:
            recover()
        was_failing, failed = failed, True
        step()
        failed = False
        if was_failing:
            log.info("%s recovered", what)

    retrying = Retrying(
        retry=retry_if_exception(transient),
        wait=wait_exponential_jitter(multiplier=INITIAL_WAIT, max=MAX_WAIT, jitter=INITIAL_WAIT),
        stop=stop_when_event_set(stop),
        sleep=_sleep(stop),
        before_sleep=_report(what),
        reraise=True,
    )
    while not stop.is_set():
        try:
            retrying(attempt)
        except Exception as error:
            if stop.is_set() and transient(error):
                return  # asked to stop while waiting out an outage
            raise
