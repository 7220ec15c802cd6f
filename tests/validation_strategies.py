"""Hypothesis strategies for hostile input, and the check that a value fits the read models.

Shared by the unit property tests (projections' pure change computation) and the integration
test that writes what the domain accepts into the real PostgreSQL tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from math import isfinite
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import currently_in_test_context, event
from hypothesis import strategies as st

from commands.appointments.messages import BookAppointment, CheckIn, StartAppointment
from commands.context import CommandContext
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.scheduling import Scheduling
from commands.slots.messages import CreateSlot
from domain.actor import Actor, Role
from domain.errors import DomainError
from projections import analytics, scheduling
from projections.search_projection import documents_for
from tests.builders import in_memory_app
from tests.fakes import FixedClock

T0 = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # a Monday
SLOT_START = T0 + timedelta(hours=2)
STAFF = CommandContext(Actor(UUID(int=1), Role.STAFF))

# --- strategies -----------------------------------------------------------------------------
# A command's arguments are drawn plausible, then up to two of them are replaced by hostile
# values, so that commands are accepted often enough for "stored and projectable" to be tested
# as well as "refused with a domain error".

NASTY_CHARS = [
    "\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\u2066", "\u200d",
    "\u200c", "\ufeff", "\ufdd0", "\ufffe", "\U0010ffff", "\ud800", "\udfff", "é", "\U0001f469",
]  # fmt: skip
# Every code point, surrogates included, with the troublesome ones drawn often.
ANY_CHAR = st.characters(exclude_categories=()) | st.sampled_from(NASTY_CHARS)
PLAIN_CHAR = st.characters(exclude_categories=("Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"))
PLAIN = st.text(PLAIN_CHAR, min_size=1, max_size=24).filter(str.strip)
PROSE = st.text(PLAIN_CHAR | st.sampled_from("\n\r\t\u200d"), max_size=60)
PLAINS = st.lists(PLAIN, max_size=4)
ANY_TEXT = st.text(ANY_CHAR, max_size=24) | st.sampled_from(["", " ", "x" * 501, "y\n" * 10_001])
ANY_TEXTS = st.lists(ANY_TEXT, max_size=4) | st.just(["z"] * 51)
MONEY = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
ANY_DECIMAL = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [Decimal(v) for v in ["sNaN", "-NaN", "1E+400", "1e-400", "1E+8", "0.001", "-0.01"]]
)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
ANY_INTEGER = st.integers() | st.sampled_from([2**31, 2**53, 2**63, -(2**70)])
ANY_NUMBER = ANY_DECIMAL | ANY_FLOAT | ANY_INTEGER
CURRENCY = st.sampled_from(["EUR", "USD", "JPY"])
ANY_CURRENCY = ANY_TEXT | st.sampled_from(["usd", "EURO", "E1R"])
ZONE = st.sampled_from(
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "Etc/GMT+12",
        "EST5EDT",
        "Factory",
        "America/Argentina/Buenos_Aires",
    ]
)
ANY_ZONE = ANY_TEXT | st.sampled_from(
    [
        "America",
        "",
        "..",
        "../UTC",
        "/etc/passwd",
        "localtime",
        "posixrules",
        "right/UTC",
        "posix/UTC",
        "tzdata.zi",
        "x" * 300,
    ]
)
OFFSETS = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=14)),
        timezone(timedelta(hours=-12)),
        timezone(timedelta(hours=23, minutes=59)),
        timezone(-timedelta(hours=23, minutes=59)),
        timezone(timedelta(hours=2, minutes=6)),
        ZoneInfo("America/New_York"),
        ZoneInfo("Pacific/Kiritimati"),
    ]
)
SOON = st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(days=800)).map(
    lambda delta: T0 + delta
)
ANY_INSTANT = st.datetimes(timezones=OFFSETS)  # across Python's whole range
DAY = st.integers(0, 400).map(lambda n: T0.date() + timedelta(days=n))
ANY_DAY = st.dates()
LENGTH = st.timedeltas(min_value=timedelta(minutes=5), max_value=timedelta(hours=24))
ANY_LENGTH = st.timedeltas(min_value=timedelta(minutes=-5), max_value=timedelta(days=500))
ANY_JSON = st.recursive(
    st.none() | st.booleans() | ANY_INTEGER | ANY_FLOAT | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=24,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6) | PLAIN,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(PLAIN, inner, max_size=3),
    max_leaves=12,
)
VITALS = st.dictionaries(PLAIN, JSON, max_size=5)
ANY_VITALS = st.dictionaries(ANY_TEXT, ANY_JSON, max_size=6) | st.integers(1, 50).map(
    lambda levels: _nested(levels)
)

Strategies = dict[str, st.SearchStrategy[Any]]


def arguments(
    plausible: Strategies, hostile: Strategies, optional: frozenset[str] = frozenset()
) -> st.SearchStrategy[dict[str, Any]]:
    """Plausible values for every argument (an optional one maybe left out), then hostile
    values for up to two of them."""

    @st.composite
    def draw_arguments(draw: st.DrawFn) -> dict[str, Any]:
        values = {
            name: draw(strategy)
            for name, strategy in plausible.items()
            if name not in optional or draw(st.booleans())
        }
        for name in draw(st.sets(st.sampled_from(sorted(hostile)), max_size=2)):
            values[name] = draw(hostile[name])
        return values

    return draw_arguments()


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"pulse": 60}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


PROFILE = {
    "name": (PLAIN, ANY_TEXT),
    "time_zone": (ZONE, ANY_ZONE),
    "specializations": (PLAINS, ANY_TEXTS),
    "bio": (PROSE, ANY_TEXT),
    "education": (PROSE, ANY_TEXT),
    "languages": (PLAINS, ANY_TEXTS),
    "latitude": (st.floats(-90, 90), ANY_NUMBER),
    "longitude": (st.floats(-180, 180), ANY_NUMBER),
    "address": (PROSE, ANY_TEXT),
    "insurances": (PLAINS, ANY_TEXTS),
    "fee_amount": (MONEY, ANY_DECIMAL),
    "fee_currency": (CURRENCY, ANY_CURRENCY),
    "accepting_new_patients": (st.booleans(), ANY_NUMBER),
}
DETAILS = {
    "name": (PLAIN, ANY_TEXT),
    "time_zone": (ZONE, ANY_ZONE),
    "birth_date": (st.dates(date(1900, 1, 1), T0.date()), ANY_DAY),
    "sex": (PLAIN, ANY_TEXT),
    "gender": (PLAIN, ANY_TEXT),
    "phone": (st.just("+4930123456"), ANY_TEXT),
    "email": (st.just("pat@example.org"), ANY_TEXT),
    "postal_code": (PLAIN, ANY_TEXT),
    "preferred_language": (PLAIN, ANY_TEXT),
    "notification_consent": (st.booleans(), ANY_TEXT),
}


def fields(table: dict[str, tuple[Any, Any]], required: frozenset[str]) -> st.SearchStrategy[Any]:
    plausible = {name: pair[0] for name, pair in table.items()}
    hostile = {name: pair[1] for name, pair in table.items()}
    return arguments(plausible, hostile, frozenset(table) - required)


def profiles() -> st.SearchStrategy[ProviderProfile]:
    """Provider profiles: a name and a zone, any other field maybe, up to two of them hostile."""
    return fields(PROFILE, frozenset({"name", "time_zone"})).map(lambda f: ProviderProfile(**f))


def partial_profiles() -> st.SearchStrategy[ProviderProfile]:
    return fields(PROFILE, frozenset()).map(lambda f: ProviderProfile(**f))


def details() -> st.SearchStrategy[PatientDetails]:
    return fields(DETAILS, frozenset({"name", "time_zone"})).map(lambda f: PatientDetails(**f))


def partial_details() -> st.SearchStrategy[PatientDetails]:
    return fields(DETAILS, frozenset()).map(lambda f: PatientDetails(**f))


# --- the read models' limits ----------------------------------------------------------------

INT4 = 2**31


def assert_storable(value: Any, where: str) -> None:
    """Fail unless PostgreSQL text, integer, numeric, timestamptz and jsonb columns (and a JSON
    search document) can hold `value`."""
    if value is None or isinstance(value, bool | UUID | date):
        if isinstance(value, datetime):
            assert value.utcoffset() is not None, f"{where}: a naive datetime"
        return
    if isinstance(value, str):
        assert "\x00" not in value, f"{where}: NUL in text"
        value.encode("utf-8")  # raises on an unpaired surrogate
    elif isinstance(value, int):
        assert -INT4 <= value < INT4, f"{where}: {value} overflows an integer column"
    elif isinstance(value, float):
        assert isfinite(value), f"{where}: {value} is no finite number"
    elif isinstance(value, Decimal):
        assert value.is_finite(), f"{where}: {value} is no finite number"
        assert abs(value) < 10**10, f"{where}: {value} overflows numeric(12, 2)"
    elif isinstance(value, list | tuple | frozenset):
        for n, item in enumerate(value):
            assert_storable(item, f"{where}[{n}]")
    elif isinstance(value, dict):
        json.dumps(value, allow_nan=False, default=str)  # jsonb: no NaN, nothing too deep
        for key, item in value.items():
            assert_storable(key, f"{where} key")
            assert_storable(item, f"{where}.{key}")
    elif isinstance(value, msgspec.Struct):
        msgspec.json.encode(value)
        assert_storable(msgspec.to_builtins(value), where)
    else:
        raise AssertionError(f"{where}: unexpected {type(value).__name__}")


def _note(outcome: str) -> None:
    # Shown by --hypothesis-show-statistics: how often commands were accepted and refused.
    if currently_in_test_context():
        event(outcome)


class World:
    """A Scheduling application (in memory unless given one), with a clock at T0."""

    def __init__(self, app: Scheduling | None = None, clock: FixedClock | None = None) -> None:
        self.clock = clock or FixedClock(T0)
        self.app = app or in_memory_app(self.clock)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def events_after(self, position: int) -> list[Any]:
        stored = self.app.recorder.select_notifications(start=position + 1, limit=100_000)
        return [self.app.mapper.to_domain_event(n) for n in stored]

    def attempt(
        self, handle: Callable[[Any, CommandContext], object], build: Callable[[], Any]
    ) -> bool:
        """Build a command and run it as staff: it is refused with a domain error (on building
        or on handling) and stores nothing, or every event it stored is projectable by every
        projection. Any other exception fails the test."""
        before = self.head()
        try:
            handle(build(), STAFF)
        except DomainError:
            assert self.head() == before, "a refused command stored events"
            _note("refused")
            return False
        _note("accepted")
        for stored in self.events_after(before):
            self.assert_projectable(stored)
        return True

    def assert_projectable(self, event: Any) -> None:
        name = type(event).__qualname__
        for change in [*scheduling.changes_for(event), *analytics.changes_for(event)]:
            assert_storable(change.key, f"{name} {change.table} key")
            assert_storable(getattr(change, "values", {}), f"{name} {change.table}")
        for document in documents_for(event, self.aggregate_at):
            assert_storable(document, f"{name} search document")

    def aggregate_at(self, aggregate_id: UUID, version: int) -> object:
        found: object = self.app.repository.get(aggregate_id, version=version)
        return found

    def provider(self) -> UUID:
        profile = ProviderProfile(name="Dr Who", time_zone="Europe/Berlin")
        return self.app.register_provider(RegisterProvider(profile=profile), STAFF).id

    def patient(self) -> UUID:
        details = PatientDetails(name="Pat", time_zone="UTC")
        return self.app.register_patient(RegisterPatient(details=details), STAFF).id

    def slot(self, provider_id: UUID) -> UUID:
        slot = CreateSlot(
            provider_id=provider_id, start=SLOT_START, end=SLOT_START + timedelta(minutes=30)
        )
        return self.app.create_slot(slot, STAFF).id

    def booked(self) -> UUID:
        slot_id = self.slot(self.provider())
        booking = BookAppointment(slot_id=slot_id, patient_id=self.patient())
        return self.app.book(booking, STAFF).id

    def in_progress(self) -> UUID:
        appointment_id = self.booked()
        self.clock.set(SLOT_START - timedelta(minutes=10))
        self.app.check_in(CheckIn(appointment_id=appointment_id), STAFF)
        self.clock.set(SLOT_START)
        self.app.start(StartAppointment(appointment_id=appointment_id), STAFF)
        return appointment_id
