"""What the domain accepts, PostgreSQL stores: nasty but acceptable input, and a bounded
Hypothesis run of hostile input, go through the scheduling, analytics and search projections
into the real read-model tables. This module works in a database of its own (conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from psycopg.rows import dict_row

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    StartAppointment,
)
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow, CreateSlot, GenerateSlots, WorkingSession
from domain.limits import MAX_AMOUNT, MAX_SAFE_INTEGER, MAX_TEXT
from domain.zone import known_zones
from infra.postgres.database import Database
from infra.postgres.rows import PostgresRowView
from infra.postgres.search.writes import PostgresSearchView
from tests.fakes import FixedClock
from tests.validation_strategies import (
    ANY_TEXT,
    ANY_TEXTS,
    ANY_VITALS,
    PLAINS,
    PROSE,
    SLOT_START,
    STAFF,
    T0,
    VITALS,
    World,
    arguments,
    details,
    profiles,
)
from workers.projection_worker import PROJECTIONS, runner_of, search_runner

WAIT = 30.0
ARABIC = "\u0645\u062d\u0645\u062f"
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a zero-width non-joiner
NAME = f"Dr Zoë 👩🏽‍⚕️ {ARABIC} {PERSIAN} 李小龙 e\u0301 \U0001d11e \u200fR"
PROSE_TEXT = ("Line one,\r\n\tline two — ünïcödé 🩺.\n" * 600)[:MAX_TEXT]


@pytest.fixture(scope="module")
def world(store_env: dict[str, str], scheduling_class: type[Scheduling]) -> Iterator[World]:
    clock = FixedClock(T0)
    app = scheduling_class(store_env, clock=clock)
    try:
        yield World(app, clock)
    finally:
        app.close()


def project_to_head(app: Scheduling, store_env: dict[str, str], head: int) -> None:
    """Run every projection from the start of the log to `head` (reading it as `app`'s class
    does, with its personal-data keys); a row PostgreSQL refuses fails the runner, and so this
    wait."""
    keyed = type(app)
    with ExitStack() as stack:
        runners = [runner_of(p, PostgresRowView, store_env, keyed)(stack) for p in PROJECTIONS]
        search = search_runner(PostgresSearchView, store_env, keyed)(stack)
        stack.callback(search.view.datastore.close)  # the runner leaves its view's pool open
        for runner in [*runners, search]:
            runner.wait(head, timeout=WAIT)


def rows(database: Database, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(database.conninfo) as conn:
        return conn.cursor(row_factory=dict_row).execute(query).fetchall()


def test_postgresql_knows_every_zone_the_domain_accepts(database: Database) -> None:
    with psycopg.connect(database.conninfo) as conn:
        known = {row[0] for row in conn.execute("SELECT name FROM pg_timezone_names")}
    assert sorted(known_zones() - known) == []


def test_nasty_but_acceptable_input_is_stored_by_every_read_model(
    world: World, store_env: dict[str, str], database: Database
) -> None:
    app, clock = world.app, world.clock
    profile = ProviderProfile(
        name=NAME,
        time_zone="Pacific/Kiritimati",
        specializations=["Kardiologie ❤️", "x" * 500],
        bio=PROSE_TEXT,
        education=PROSE_TEXT,
        address="Straße 1\r\n10115 Berlin",
        latitude=-90.0,
        longitude=180,
        fee_amount=MAX_AMOUNT,
        fee_currency="EUR",
    )
    provider_id = app.register_provider(RegisterProvider(profile=profile), STAFF).id
    details = PatientDetails(
        name="\u200f" + NAME, time_zone="Etc/GMT+12", birth_date=date(1900, 1, 1)
    )
    patient_id = app.register_patient(RegisterPatient(details=details), STAFF).id
    slot_id = app.create_slot(
        CreateSlot(
            provider_id=provider_id,
            start=SLOT_START,
            end=SLOT_START + timedelta(hours=24),
            capacity=500,
            overbook_allowance=50,
            location="🏥 Haus B\u200d",
        ),
        STAFF,
    ).id
    last_hour = datetime(2199, 12, 31, 22, tzinfo=UTC)
    app.create_slot(
        CreateSlot(provider_id=provider_id, start=last_hour, end=last_hour + timedelta(hours=1)),
        STAFF,
    )
    session = WorkingSession(weekday=2, start=time(0), end=time(23, 30), slot_minutes=30)
    app.generate_slots(
        GenerateSlots(
            provider_id=provider_id,
            first_day=date(2199, 12, 1),
            last_day=date(2199, 12, 30),
            sessions=[session],
        ),
        STAFF,
    )
    app.block_window(
        BlockWindow(
            provider_id=provider_id,
            start=datetime(2199, 12, 1, tzinfo=UTC),
            end=datetime(2199, 12, 31, tzinfo=UTC),
            reason="Sabbatical:\n\tback in 2200 ✈️",
        ),
        STAFF,
    )
    reason = "Pain,\r\nsince Monday \U0001f915"
    visit = app.book(
        BookAppointment(slot_id=slot_id, patient_id=patient_id, reason=reason, symptoms=["😷"]),
        STAFF,
    ).id
    cancelled = app.book(BookAppointment(slot_id=slot_id, patient_id=world.patient()), STAFF).id
    vitals: dict[str, Any] = {"max": MAX_SAFE_INTEGER, "min": -MAX_SAFE_INTEGER, "big": 1.7e308}
    for level in range(7):
        vitals = {f"ebene {level} ü": vitals, "list": [None, True, "\u200d", 0.5]}
    clock.set(SLOT_START - timedelta(minutes=10))
    fee = CancelAppointment(appointment_id=cancelled, reason=reason, fee=MAX_AMOUNT, currency="EUR")
    app.cancel(fee, STAFF)
    app.check_in(CheckIn(appointment_id=visit), STAFF)
    clock.set(SLOT_START)
    app.start(StartAppointment(appointment_id=visit), STAFF)
    notes = CompleteAppointment(
        appointment_id=visit, notes=PROSE_TEXT, private_notes=PROSE_TEXT, vitals=vitals
    )
    completed = app.complete(notes, STAFF)

    project_to_head(app, store_env, completed.position)

    [provider] = rows(
        database, f"SELECT name, profile FROM rm_providers WHERE id = '{provider_id}'"
    )
    assert provider["name"] == NAME
    assert provider["profile"]["bio"] == PROSE_TEXT
    [fact] = rows(database, f"SELECT fee_amount FROM an_providers WHERE id = '{provider_id}'")
    assert fact["fee_amount"] == MAX_AMOUNT
    [charged] = rows(
        database, f"SELECT cancellation_fee FROM rm_appointments WHERE id = '{cancelled}'"
    )
    assert charged["cancellation_fee"] == Decimal(MAX_AMOUNT)
    assert rows(database, f"SELECT reason FROM rm_appointments WHERE id = '{visit}'") == [
        {"reason": reason}
    ]


HOSTILE = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_hostile_input_the_domain_accepts_is_stored_by_postgresql(
    world: World, store_env: dict[str, str]
) -> None:
    @HOSTILE
    @given(
        profile=profiles(),
        registration=details(),
        booking=arguments(
            {"reason": PROSE, "symptoms": PLAINS}, {"reason": ANY_TEXT, "symptoms": ANY_TEXTS}
        ),
        completion=arguments(
            {"notes": PROSE, "vitals": VITALS}, {"notes": ANY_TEXT, "vitals": ANY_VITALS}
        ),
    )
    def run(
        profile: ProviderProfile,
        registration: PatientDetails,
        booking: dict[str, Any],
        completion: dict[str, Any],
    ) -> None:
        app = world.app
        world.attempt(app.register_provider, lambda: RegisterProvider(profile=profile))
        world.attempt(app.register_patient, lambda: RegisterPatient(details=registration))
        world.clock.set(T0)
        slot_id, patient_id = world.slot(world.provider()), world.patient()
        world.attempt(
            app.book, lambda: BookAppointment(slot_id=slot_id, patient_id=patient_id, **booking)
        )
        visit = world.in_progress()
        world.attempt(app.complete, lambda: CompleteAppointment(appointment_id=visit, **completion))

    run()

    project_to_head(world.app, store_env, world.head())
