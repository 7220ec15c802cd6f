"""The supervisor's restart delays: doubling from the first, capped, and starting over after a
child has run healthily for a while."""

from __future__ import annotations

from workers.supervisor import Backoff


def test_restart_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(first=1.0, cap=8.0, healthy_after=60.0)

    delays = [backoff.after_exit(ran_for=0.5) for _ in range(6)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_a_child_that_ran_healthily_restarts_after_the_first_delay_again() -> None:
    backoff = Backoff(first=1.0, cap=30.0, healthy_after=60.0)
    for _ in range(4):
        backoff.after_exit(ran_for=1.0)

    assert backoff.after_exit(ran_for=59.0) == 16.0
    assert backoff.after_exit(ran_for=61.0) == 1.0
    assert backoff.after_exit(ran_for=2.0) == 2.0


def test_a_child_failing_for_days_never_overflows_the_delay() -> None:
    backoff = Backoff(first=0.5, cap=30.0)

    delays = {backoff.after_exit(ran_for=0.0) for _ in range(5000)}

    assert max(delays) == 30.0
