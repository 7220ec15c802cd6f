"""Workers' loops wait out an outage and recover, but stop on anything else; which errors are
an outage is decided per driver."""

from __future__ import annotations

import threading

import psycopg
import pytest
from confluent_kafka import KafkaError, KafkaException
from eventsourcing import persistence

from infra.kafka.transient import is_transient as kafka_transient
from infra.postgres.transient import is_transient as postgres_transient
from workers.resilience import keep_running


class OutageError(Exception):
    pass


class PoisonError(Exception):
    pass


def test_a_transient_error_is_waited_out_and_recovered_from_before_the_next_step() -> None:
    stop = threading.Event()
    calls: list[str] = []

    def step() -> None:
        calls.append("step")
        if calls.count("step") <= 2:
            raise OutageError
        stop.set()

    keep_running(
        step,
        stop,
        what="test",
        transient=lambda e: isinstance(e, OutageError),
        recover=lambda: calls.append("recover"),
    )
    assert calls == ["step", "recover", "step", "recover", "step"]


def test_an_error_that_is_not_transient_ends_the_loop() -> None:
    stop = threading.Event()

    def step() -> None:
        raise PoisonError

    with pytest.raises(PoisonError):
        keep_running(step, stop, what="test", transient=lambda e: isinstance(e, OutageError))


def test_a_stop_request_during_an_outage_ends_the_loop_quietly() -> None:
    stop = threading.Event()

    def step() -> None:
        stop.set()
        raise OutageError

    keep_running(step, stop, what="test", transient=lambda e: isinstance(e, OutageError))


def caused(error: Exception) -> persistence.OperationalError:
    try:
        raise persistence.OperationalError(str(error)) from error
    except persistence.OperationalError as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (psycopg.OperationalError("connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),
        (psycopg.errors.LockNotAvailable("lock timeout"), True),
        (psycopg.errors.SerializationFailure("could not serialize"), True),
        (caused(psycopg.OperationalError("server closed the connection")), True),
        (psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"), False),
        (psycopg.errors.UntranslatableCharacter("\\u0000 cannot be converted"), False),
        (psycopg.errors.UniqueViolation("duplicate key"), False),
        (caused(psycopg.errors.ProgramLimitExceeded("index row too big")), False),
        (ValueError("bad event"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_which_database_errors_are_an_outage(error: Exception, transient: bool) -> None:
    assert postgres_transient(error) is transient


def test_a_broker_error_is_transient_unless_the_client_calls_it_fatal() -> None:
    assert kafka_transient(KafkaException(KafkaError(KafkaError._TRANSPORT)))
    assert kafka_transient(KafkaException(KafkaError(KafkaError._ALL_BROKERS_DOWN)))
    assert not kafka_transient(KafkaException(KafkaError(KafkaError._FATAL, fatal=True)))
    assert not kafka_transient(psycopg.OperationalError("not a broker error"))
