"""Demographics with small-cell suppression on PostgreSQL (issue 14): the bands come from the
patients' encrypted personal data through the analytics projection, only coarse values are
stored, and erasing a patient clears theirs.

30 patients seen on 2 Mar 2027 (ages in 2027): 14 born 1990 (37: 35-49), female, postal 10115;
12 born 1960 (67: 65-79), male, 20095; 3 born 2015 (12: 0-17), female, 10117; 1 with nothing
but a name (unknown). Age bands: 0-17 3 and unknown 1 are under 11 and add up to 4, so 65-79
(12, the next smallest) is suppressed too; 35-49 14 stays. Sex: female 17, male 12, unknown
1: the lone small cell takes male with it. Postal prefixes 101 (17), 200 (12), unknown (1)
likewise. A patient seen on 10 Mar is outside the period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.directory.messages import (
    ErasePatient,
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.scheduling import Scheduling
from domain.patient import ErasureReason
from infra.postgres.database import Database
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from infra.postgres.rebuild import rebuild
from infra.postgres.rows import PostgresRowView
from projections.analytics import AnalyticsProjection
from projections.demographics_queries import Cell, Dimension
from tests.builders import as_staff, book, create_slot
from tests.fakes import FixedClock
from tests.integration.analytics_support import (  # noqa: F401 - march_clock is the clock fixture
    FROM,
    TO,
    WAIT,
    at,
    march_clock,
    visit,
)

COHORTS: list[tuple[int, dict[str, Any]]] = [
    (14, {"birth_date": date(1990, 6, 1), "sex": "Female", "postal_code": "10115"}),
    (12, {"birth_date": date(1960, 1, 1), "sex": "male", "postal_code": "20095"}),
    (3, {"birth_date": date(2015, 3, 3), "sex": "female", "postal_code": "10117"}),
    (1, {}),
]


def patient(app: Scheduling, **details: Any) -> UUID:
    wanted = PatientDetails(name="Ada Lovelace", time_zone="UTC", **details)
    return app.register_patient(RegisterPatient(details=wanted), as_staff()).id


class World:
    def __init__(self, app: Scheduling, runner: Any, first: UUID) -> None:
        self.app, self.runner, self.first = app, runner, first

    def project(self) -> None:
        self.runner.wait(self.app.head_position(), timeout=WAIT)


@pytest.fixture(scope="module")
def world(
    store_env: dict[str, str], scheduling_class: type[Scheduling], clock: FixedClock
) -> Iterator[World]:
    app = scheduling_class(store_env, clock=clock)
    profile = ProviderProfile(name="Dr A", time_zone="UTC", specializations=["cardiology"])
    provider = app.register_provider(RegisterProvider(profile=profile), as_staff()).id
    slot = create_slot(app, provider, at(2, 9), 60, capacity=31)
    later = create_slot(app, provider, at(10, 9), 60)
    patients = [patient(app, **d) for n, d in COHORTS for _ in range(n)]
    seen = [book(app, slot, p).id for p in patients]
    outside = book(app, later, patient(app, birth_date=date(1990, 1, 1))).id
    for appointment in seen:
        visit(app, clock, appointment, at(2, 9))
    visit(app, clock, outside, at(10, 9))
    try:
        with ProjectionRunner(
            application_class=scheduling_class,
            projection_class=AnalyticsProjection,
            view_class=PostgresRowView,
            env=store_env,
        ) as runner:
            world = World(app, runner, patients[0])
            world.project()
            yield world
    finally:
        app.close()


@pytest.fixture(scope="module")
def analytics(database: Database, world: World) -> Iterator[PostgresAnalyticsQueries]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=2, open=True) as pool:
        yield PostgresAnalyticsQueries(pool)


def cells(analytics: PostgresAnalyticsQueries, by: Dimension) -> dict[str, int | None]:
    report = analytics.demographics(FROM, TO, by)
    assert report.patients == 30
    assert not report.total_suppressed
    assert all((c.patients is None) == c.suppressed for c in report.cells)
    return {c.value: c.patients for c in report.cells}


def test_small_cells_and_their_complements_are_suppressed(
    analytics: PostgresAnalyticsQueries,
) -> None:
    assert cells(analytics, Dimension.AGE_BAND) == {
        "0-17": None,
        "35-49": 14,
        "65-79": None,
        "unknown": None,
    }
    assert cells(analytics, Dimension.SEX) == {"female": 17, "male": None, "unknown": None}
    assert cells(analytics, Dimension.POSTAL_PREFIX) == {"101": 17, "200": None, "unknown": None}
    assert cells(analytics, Dimension.GENDER) == {"unknown": 30}


def test_only_coarse_bands_are_stored(database: Database, world: World) -> None:
    with psycopg.connect(database.conninfo) as conn:
        row = conn.execute(
            "SELECT birth_year, sex, gender, postal_prefix FROM an_patient_bands"
            " WHERE patient_id = %s",
            (world.first,),
        ).fetchone()
        dumped = conn.execute("SELECT string_agg(t::text, ' ') FROM an_patient_bands t").fetchone()
    assert row == (1990, "female", None, "101")
    assert dumped is not None
    assert "10115" not in dumped[0]
    assert "1990-06-01" not in dumped[0]
    assert "Ada" not in dumped[0]


def test_a_small_total_is_suppressed_with_every_cell(analytics: PostgresAnalyticsQueries) -> None:
    report = analytics.demographics(at(10, 0), at(11, 0), Dimension.SEX)
    assert (report.patients, report.total_suppressed) == (None, True)
    assert report.cells == [Cell(value="unknown", patients=None, suppressed=True)]


def test_erasure_clears_the_patients_bands(
    analytics: PostgresAnalyticsQueries, database: Database, world: World
) -> None:
    erase = ErasePatient(patient_id=world.first, reason=ErasureReason.PATIENT_REQUEST)
    world.app.erase_patient(erase, as_staff())
    world.project()
    with psycopg.connect(database.conninfo) as conn:
        left = conn.execute(
            "SELECT count(*) FROM an_patient_bands WHERE patient_id = %s", (world.first,)
        ).fetchone()
    assert left == (0,)
    after = {"0-17": None, "35-49": 13, "65-79": None, "unknown": None}
    # 35-49 now 13; unknown 2 and 0-17 3 take 65-79 with them as before.
    assert cells(analytics, Dimension.AGE_BAND) == after
    # A rebuild reads the erased patient's details with their key gone: still no bands.
    assert rebuild(database.conninfo, world.app, "analytics").swapped
    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute("SELECT patient_id FROM an_patient_bands").fetchall()
    assert len(rows) == 30  # the 31 registered patients less the erased one
    assert (world.first,) not in rows
    assert cells(analytics, Dimension.AGE_BAND) == after
