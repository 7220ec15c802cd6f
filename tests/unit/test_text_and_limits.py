"""The domain's one rule for text, and its limits on money, zones, time and fan-out: each refusal
is a ValidationError naming the field, never another exception."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.actor import EventMeta
from domain.appointment import Appointment
from domain.errors import ValidationError
from domain.limits import (
    MAX_DEPTH,
    MAX_FREE_FORM_CHARS,
    MAX_FREE_FORM_ENTRIES,
    FreeForm,
    check_instant,
    check_values,
)
from domain.money import check_amount, check_currency
from domain.patient import Patient
from domain.personal import PersonalData
from domain.provider import Provider
from domain.schedule import GenerationRequest, ScheduleError, Session, WeeklyHours
from domain.slot import Slot
from domain.text import Lines, check_text
from domain.timerange import TimeRange
from domain.zone import check_zone

META = EventMeta(uuid.uuid4(), "staff", uuid.uuid4(), uuid.uuid4(), "Test")
TODAY = date(2030, 1, 7)
NINE = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)

# --- text -----------------------------------------------------------------------------------

REFUSED_EVERYWHERE = [
    ("\u0000", "a control character"),
    ("\u0007", "a control character"),
    ("\u001b", "a control character"),
    ("\u007f", "a control character"),
    ("\u0085", "a control character"),
    ("\ud800", "an unpaired surrogate"),
    ("\udfff", "an unpaired surrogate"),
    ("\ufdd0", "a noncharacter"),
    ("\ufffe", "a noncharacter"),
    ("\U0010ffff", "a noncharacter"),
    ("\u202e", "a bidirectional control character"),
    ("\u2066", "a bidirectional control character"),
]
LINE_BREAKS = ["\n", "\r", "\t", "\u2028", "\u2029"]
ALLOWED = [
    "Zoë",
    "李小龙",
    "\u0645\u062d\u0645\u062f",
    "👩‍⚕️",
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "a\u200eb",
    "\ue000",
    "\U0001f600",
]


@pytest.mark.parametrize(("char", "kind"), REFUSED_EVERYWHERE)
@pytest.mark.parametrize("lines", list(Lines))
def test_text_refuses_control_characters_surrogates_noncharacters_and_bidi_overrides(
    char: str, kind: str, lines: Lines
) -> None:
    code = f"U+{ord(char):04X}"
    with pytest.raises(ValidationError, match=rf"^{re.escape(f'name contains {kind} ({code})')}$"):
        check_text("name", f"Dr {char}Who", lines)


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_line_breaks_and_tabs_are_for_multiline_text_only(char: str) -> None:
    check_text("notes", f"one{char}two", Lines.MULTILINE)
    with pytest.raises(ValidationError, match=r"^name contains"):
        check_text("name", f"one{char}two")


@pytest.mark.parametrize("text", ALLOWED)
def test_text_in_any_script_with_joiners_and_marks_is_accepted(text: str) -> None:
    check_text("name", text)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "a\nb"}, "name"),
        ({"room": "2\u00003"}, "room"),
        ({"symptoms": ["cough", "fe\u0000ver"]}, "symptoms[1]"),
        ({"vitals": {"bp": {"sys\u0000": 1}}}, "a key of vitals.bp"),
        ({"vitals": {"bp": ["ok", "x\u0000"]}}, "vitals.bp[1]"),
    ],
)
def test_every_free_text_field_is_checked_naming_the_field(
    values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=rf"^{field.replace('[', '.').replace(']', '.')}"):
        check_values(values)


@pytest.mark.parametrize("field", ["notes", "private_notes", "bio", "education", "reason"])
def test_prose_fields_may_hold_line_breaks(field: str) -> None:
    check_values({field: "First line.\r\n\tSecond line."})


# --- free-form objects ----------------------------------------------------------------------


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_a_free_form_object_may_nest_up_to_the_limit() -> None:
    FreeForm("vitals").check(deep(MAX_DEPTH))
    with pytest.raises(ValidationError, match=f"vitals nests deeper than {MAX_DEPTH} levels"):
        FreeForm("vitals").check(deep(MAX_DEPTH + 1))


def test_a_free_form_object_nested_5000_levels_deep_is_refused_without_recursing() -> None:
    with pytest.raises(ValidationError, match="vitals nests deeper"):
        FreeForm("vitals").check(deep(5000))


def test_a_free_form_object_is_bounded_in_entries_and_characters() -> None:
    FreeForm("vitals").check({f"k{n}": n for n in range(MAX_FREE_FORM_ENTRIES)})
    with pytest.raises(ValidationError, match="entries in all"):
        FreeForm("vitals").check({"list": list(range(MAX_FREE_FORM_ENTRIES))})
    chunk = "x" * 400
    with pytest.raises(ValidationError, match="characters in all"):
        FreeForm("vitals").check({f"k{n}": chunk for n in range(MAX_FREE_FORM_CHARS // 400 + 1)})


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -float("inf"), 2**53, -(2**64), Decimal("1"), object()]
)
def test_free_form_numbers_are_finite_json_safe_numbers(value: object) -> None:
    with pytest.raises(ValidationError, match=r"^vitals\.x "):
        FreeForm("vitals").check({"x": value})


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "-0.01", "100000000", "1E+400", "0.001"],
)
def test_an_amount_of_money_is_finite_non_negative_bounded_and_in_cents(amount: str) -> None:
    with pytest.raises(ValidationError, match=r"^fee "):
        check_amount("fee", Decimal(amount))


@pytest.mark.parametrize("amount", ["0", "12.5", "12.50", "12.5000", "99999999.99", "1E+2"])
def test_amounts_within_the_limits_are_accepted(amount: str) -> None:
    assert check_amount("fee", Decimal(amount)) == Decimal(amount)


@pytest.mark.parametrize("code", ["eur", "EURO", "EU", "E1R", "ÉUR", "", None, 978])
def test_a_currency_is_three_capital_letters(code: object) -> None:
    with pytest.raises(ValidationError, match=r"^currency must be an ISO 4217 code"):
        check_currency("currency", code)


# --- zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone",
    [
        "America",
        "",
        "/etc/passwd",
        "..",
        "../UTC",
        "Europe/../UTC",
        "tzdata.zi",
        "x" * 300,
        "UTC\0",
    ],
)
def test_a_zone_name_that_is_no_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match=r"^time_zone "):
        check_zone(zone)


@pytest.mark.parametrize("zone", ["UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "GMT-0"])
def test_real_zone_names_are_accepted(zone: str) -> None:
    assert check_zone(zone) == zone


def test_providers_and_patients_refuse_a_folder_of_the_zone_database() -> None:
    with pytest.raises(ValidationError, match="time_zone"):
        Provider.register(uuid.uuid4(), {"name": "Dr", "time_zone": "America"}, META)
    with pytest.raises(ValidationError, match="time_zone"):
        Patient.register(uuid.uuid4(), {"name": "P", "time_zone": "America"}, TODAY, META)


# --- time -----------------------------------------------------------------------------------

MINUS_FIVE = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    "instant",
    [
        datetime(9999, 12, 31, 23, 0, tzinfo=MINUS_FIVE),
        datetime.max.replace(tzinfo=UTC),
        datetime(1, 1, 1, 0, 14, 33, tzinfo=timezone(timedelta(hours=2, minutes=6))),
        datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
    ],
)
def test_instants_outside_the_supported_years_are_refused_before_any_arithmetic(
    instant: datetime,
) -> None:
    with pytest.raises(ValidationError, match=r"^start must lie between 1900-01-01 and 2200"):
        TimeRange(instant, instant + timedelta(minutes=1) if instant.year < 9999 else instant)


def test_the_supported_range_is_inclusive_at_its_start_and_open_at_its_end() -> None:
    check_instant("start", datetime(1900, 1, 1, tzinfo=UTC))
    check_instant("start", datetime(2199, 12, 31, 18, 59, tzinfo=MINUS_FIVE))
    with pytest.raises(ValidationError):
        check_instant("start", datetime(2199, 12, 31, 19, 0, tzinfo=MINUS_FIVE))


def test_a_birth_date_before_1900_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^birth_date must lie between"):
        Patient.register(
            uuid.uuid4(),
            {"name": "P", "time_zone": "UTC", "birth_date": date(1, 1, 1)},
            TODAY,
            META,
        )


def test_generating_slots_in_the_year_9999_is_refused() -> None:
    weekly = WeeklyHours({d: [Session(time(22), time(23, 59), 30)] for d in range(1, 8)})
    with pytest.raises(ScheduleError, match=r"^first_day must lie between"):
        GenerationRequest("UTC", date(9999, 12, 30), date(9999, 12, 31), weekly)


def test_a_working_session_slot_is_at_most_a_day() -> None:
    with pytest.raises(ScheduleError, match="at most 1440 min"):
        Session(time(0), time(23), slot_minutes=1441)


# --- fan-out --------------------------------------------------------------------------------


def slot(end: datetime, **terms: Any) -> Slot:
    values: dict[str, Any] = {
        "capacity": 1,
        "overbook_allowance": 0,
        "appointment_types": ["in_person"],
        "location": None,
        "room": None,
        **terms,
    }
    return Slot.create(
        slot_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        time=TimeRange(NINE, end),
        meta=META,
        **values,
    )


def test_a_slot_lasts_at_most_24_hours() -> None:
    slot(NINE + timedelta(hours=24))
    with pytest.raises(ValidationError, match="at most 24 hours"):
        slot(NINE + timedelta(hours=24, microseconds=1))


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"capacity": 501}, "capacity"),
        ({"capacity": 2**70}, "capacity"),
        ({"overbook_allowance": 51}, "overbook_allowance"),
        ({"capacity": True}, "capacity"),
        ({"location": "Room\u00001"}, "location"),
        ({"room": 12}, "room"),
    ],
)
def test_slot_terms_are_bounded_naming_the_field(terms: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=rf"^{field} "):
        slot(NINE + timedelta(minutes=30), **terms)


def test_a_time_range_touching_more_than_93_days_fans_out_to_no_day_bucket() -> None:
    assert len(TimeRange(NINE, NINE + timedelta(days=92)).utc_days()) == 93
    with pytest.raises(ValidationError, match=r"^end is too far from start"):
        TimeRange(NINE, NINE + timedelta(days=400)).utc_days()


def test_a_booking_refuses_a_control_character_in_its_reason_or_symptoms() -> None:
    booking: dict[str, Any] = {
        "patient_id": uuid.uuid4(),
        "provider_id": uuid.uuid4(),
        "slot_id": uuid.uuid4(),
        "start": NINE,
        "end": NINE + timedelta(minutes=30),
        "appointment_type": "in_person",
        "hold_expires_at": None,
        "overbooked": False,
        "meta": META,
    }
    with pytest.raises(ValidationError, match=r"^reason contains a control character"):
        Appointment.schedule(uuid.uuid4(), "pain\u0000", [], **booking)
    with pytest.raises(ValidationError, match=r"^symptoms\[0\] contains"):
        Appointment.schedule(uuid.uuid4(), "pain", ["\u202ecough"], **booking)
    booked = Appointment.schedule(uuid.uuid4(), "pain,\nsince Monday", ["cough"], **booking)
    assert booked.reason == PersonalData(booking["patient_id"], "pain,\nsince Monday")
