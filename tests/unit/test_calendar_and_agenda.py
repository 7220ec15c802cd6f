from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.agenda import PatientAgenda
from domain.calendar import ProviderCalendar
from domain.errors import AppointmentOverlapError, SlotOverlapError
from domain.timerange import TimeRange
from tests.builders import META

pytestmark = pytest.mark.unit

DAY = date(2026, 5, 4)
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
HOLD = timedelta(minutes=10)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def span(start: datetime, minutes: int = 30) -> TimeRange:
    return TimeRange(start, start + timedelta(minutes=minutes))


# --- provider calendar ------------------------------------------------------------------------


def given_calendar(*placed: tuple[UUID, TimeRange]) -> ProviderCalendar:
    calendar = ProviderCalendar(provider_id=uuid4(), day=DAY, meta=META)
    for slot_id, time in placed:
        calendar.place(slot_id, time, META)
    calendar.collect_events()
    return calendar


def test_a_calendar_is_named_by_provider_and_day_and_its_opening_carries_meta() -> None:
    provider_id = uuid4()
    calendar = ProviderCalendar(provider_id=provider_id, day=DAY, meta=META)
    [opened] = calendar.collect_events()
    assert isinstance(opened, ProviderCalendar.Opened)
    assert opened.meta == META
    assert calendar.id == ProviderCalendar.create_id(provider_id, DAY)
    assert calendar.id != ProviderCalendar.create_id(provider_id, DAY + timedelta(days=1))
    assert calendar.id != ProviderCalendar.create_id(uuid4(), DAY)


def test_placing_a_slot_in_a_free_time_records_it() -> None:
    calendar = given_calendar()
    slot_id = uuid4()
    calendar.place(slot_id, span(at(10)), META)
    [placed] = calendar.collect_events()
    assert isinstance(placed, ProviderCalendar.SlotPlaced)
    assert (placed.slot_id, placed.start, placed.end) == (slot_id, at(10), at(10, 30))
    assert calendar.has_exact(slot_id, span(at(10)))
    assert not calendar.has_exact(slot_id, span(at(10), 20))


@pytest.mark.parametrize(
    "time",
    [span(at(10)), span(at(10, 15)), span(at(9, 45)), span(at(10, 10), 10), span(at(9), 120)],
    ids=["same", "late-start", "early-start", "inside", "around"],
)
def test_a_calendar_refuses_a_slot_overlapping_another(time: TimeRange) -> None:
    existing = uuid4()
    calendar = given_calendar((existing, span(at(10))))
    with pytest.raises(SlotOverlapError, match=str(existing)):
        calendar.place(uuid4(), time, META)
    assert calendar.collect_events() == []


def test_a_calendar_allows_adjacent_slots_on_either_side() -> None:
    calendar = given_calendar((uuid4(), span(at(10))))
    calendar.place(uuid4(), span(at(9, 30)), META)
    calendar.place(uuid4(), span(at(10, 30)), META)
    assert len(calendar.collect_events()) == 2
    assert len(calendar.entries) == 3


def test_removing_a_slot_frees_its_time_and_is_remembered() -> None:
    slot_id = uuid4()
    calendar = given_calendar((slot_id, span(at(10))))

    calendar.remove(slot_id, META)

    [removed] = calendar.collect_events()
    assert isinstance(removed, ProviderCalendar.SlotRemoved)
    assert removed.slot_id == slot_id
    assert calendar.was_removed(slot_id)
    calendar.place(uuid4(), span(at(10)), META)


def test_removing_a_slot_twice_records_nothing_the_second_time() -> None:
    slot_id = uuid4()
    calendar = given_calendar((slot_id, span(at(10))))
    calendar.remove(slot_id, META)
    calendar.collect_events()
    calendar.remove(slot_id, META)
    assert calendar.collect_events() == []


# --- patient agenda ---------------------------------------------------------------------------


def given_agenda(*entered: tuple[UUID, TimeRange, datetime | None]) -> PatientAgenda:
    agenda = PatientAgenda(patient_id=uuid4(), day=DAY, meta=META)
    for appointment_id, time, hold_expires_at in entered:
        agenda.enter(appointment_id, time, NOW, hold_expires_at, META)
    agenda.collect_events()
    return agenda


def test_an_agenda_is_named_by_patient_and_day_and_its_opening_carries_meta() -> None:
    patient_id = uuid4()
    agenda = PatientAgenda(patient_id=patient_id, day=DAY, meta=META)
    [opened] = agenda.collect_events()
    assert isinstance(opened, PatientAgenda.Opened)
    assert opened.meta == META
    assert agenda.id == PatientAgenda.create_id(patient_id, DAY)


def test_entering_an_appointment_in_a_free_time_records_it() -> None:
    agenda = given_agenda()
    appointment_id = uuid4()
    agenda.enter(appointment_id, span(at(10)), NOW, None, META)
    [entered] = agenda.collect_events()
    assert isinstance(entered, PatientAgenda.Entered)
    assert (entered.appointment_id, entered.start, entered.end) == (
        appointment_id,
        at(10),
        at(10, 30),
    )
    assert entered.hold_expires_at is None


def test_an_agenda_refuses_an_overlapping_active_appointment() -> None:
    existing = uuid4()
    agenda = given_agenda((existing, span(at(10)), None))
    with pytest.raises(AppointmentOverlapError, match=str(existing)):
        agenda.enter(uuid4(), span(at(10, 15)), NOW, None, META)
    assert agenda.collect_events() == []


def test_an_agenda_refuses_an_appointment_overlapping_a_live_hold() -> None:
    agenda = given_agenda((uuid4(), span(at(10)), NOW + HOLD))
    with pytest.raises(AppointmentOverlapError):
        agenda.enter(uuid4(), span(at(10)), NOW + HOLD - timedelta(microseconds=1), None, META)


def test_an_agenda_ignores_an_expired_hold() -> None:
    agenda = given_agenda((uuid4(), span(at(10)), NOW + HOLD))
    agenda.enter(uuid4(), span(at(10)), NOW + HOLD, None, META)
    assert len(agenda.collect_events()) == 1


def test_an_agenda_allows_adjacent_appointments() -> None:
    agenda = given_agenda((uuid4(), span(at(10)), None))
    agenda.enter(uuid4(), span(at(9, 30)), NOW, None, META)
    agenda.enter(uuid4(), span(at(10, 30)), NOW, None, META)
    assert len(agenda.collect_events()) == 2


def test_an_appointment_does_not_overlap_itself_when_entered_again() -> None:
    appointment_id = uuid4()
    agenda = given_agenda((appointment_id, span(at(10)), None))
    agenda.enter(appointment_id, span(at(10, 15)), NOW, None, META)
    assert agenda.entries[appointment_id].start == at(10, 15)


def test_confirming_a_hold_keeps_it_in_the_agenda_after_the_hold_would_have_expired() -> None:
    held = uuid4()
    agenda = given_agenda((held, span(at(10)), NOW + HOLD))

    agenda.confirm(held, META)

    [confirmed] = agenda.collect_events()
    assert isinstance(confirmed, PatientAgenda.Confirmed)
    with pytest.raises(AppointmentOverlapError):
        agenda.enter(uuid4(), span(at(10)), NOW + 2 * HOLD, None, META)


def test_confirming_a_booking_or_an_unknown_appointment_records_nothing() -> None:
    booked = uuid4()
    agenda = given_agenda((booked, span(at(10)), None))
    agenda.confirm(booked, META)
    agenda.confirm(uuid4(), META)
    assert agenda.collect_events() == []


def test_withdrawing_an_appointment_frees_its_time_and_twice_is_a_no_op() -> None:
    booked = uuid4()
    agenda = given_agenda((booked, span(at(10)), None))

    agenda.withdraw(booked, META)
    agenda.withdraw(booked, META)

    [withdrawn] = agenda.collect_events()
    assert isinstance(withdrawn, PatientAgenda.Withdrawn)
    assert withdrawn.appointment_id == booked
    agenda.enter(uuid4(), span(at(10)), NOW, None, META)


def test_time_ranges_spanning_midnight_touch_both_utc_days() -> None:
    late = TimeRange(
        datetime(2026, 5, 4, 23, 45, tzinfo=UTC), datetime(2026, 5, 5, 0, 15, tzinfo=UTC)
    )
    to_midnight = TimeRange(at(23, 30), datetime(2026, 5, 5, 0, 0, tzinfo=UTC))
    assert late.utc_days() == [DAY, DAY + timedelta(days=1)]
    assert to_midnight.utc_days() == [DAY]
