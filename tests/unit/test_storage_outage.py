"""A database outage during a request is a 503 problem the client may retry, with Retry-After;
a database error that is not an outage stays a 500 that leaks nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
import pytest
from eventsourcing import persistence
from litestar.testing import TestClient
from psycopg_pool import PoolTimeout

from domain.actor import Role
from projections.queries import AppointmentFilter, AppointmentView, Page
from tests.fakes import StillQueries
from tests.unit.test_api_edges import assert_problem, bearer, make_client


class FailingQueries(StillQueries):
    """A read model whose listing fails with `error`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(position=5)
        self.error = error

    def appointments(self, wanted: AppointmentFilter, now: datetime) -> Page[AppointmentView]:
        raise self.error


def client_failing_with(error: Exception) -> TestClient[Any]:
    return make_client(queries=FailingQueries(error))


def wrapped(error: Exception) -> persistence.OperationalError:
    try:
        raise persistence.OperationalError(str(error)) from error
    except persistence.OperationalError as raised:
        return raised


OUTAGES = [
    psycopg.OperationalError("server closed the connection unexpectedly"),
    PoolTimeout("couldn't get a connection after 5.00 sec"),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    wrapped(psycopg.OperationalError("connection refused")),
]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
def test_a_database_outage_during_a_read_is_a_503_with_retry_after(error: Exception) -> None:
    with client_failing_with(error) as client:
        response = client.get("/v1/appointments", headers=bearer(Role.STAFF))
    body = assert_problem(response, 503, "unavailable")
    assert response.headers["Retry-After"].isdigit()
    assert "connection" not in body["detail"]  # says what to do, not what the driver said


def test_a_database_error_that_is_not_an_outage_stays_a_500() -> None:
    # A statement the server refuses for what it holds fails the same way on every retry.
    error = psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum")
    with client_failing_with(error) as client:
        response = client.get("/v1/appointments", headers=bearer(Role.STAFF))
    body = assert_problem(response, 500, "internal")
    assert "index" not in body["detail"]
