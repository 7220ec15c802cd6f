"""The analytics projection's row changes and the measures' arithmetic, without a database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking

from domain.appointment import Appointment
from domain.patient import Patient
from domain.policies import CancellationPolicy, CheckInWindow, NoShowPolicy
from domain.provider import Provider
from domain.slot import Slot
from domain.timerange import TimeRange
from projections import analytics, scheduling
from projections.analytics import (
    APPOINTMENTS,
    PROVIDERS,
    SEATS,
    SLOTS,
    AnalyticsProjection,
    changes_for,
)
from projections.analytics_queries import AppointmentFigures, Counts, Utilization, ratio, seconds
from projections.changes import Change, Handlers, Update, Upsert
from tests.builders import META
from tests.fakes import MemoryRows

START = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
WINDOW = CheckInWindow()
NOTICE = CancellationPolicy()
GRACE = NoShowPolicy()
PROFILE: dict[str, Any] = {
    "name": "Dr Ada",
    "time_zone": "America/New_York",
    "specializations": ["cardiology", "internal medicine"],
    "fee_amount": Decimal("80.00"),
    "fee_currency": "USD",
}


def events(*aggregates: Aggregate) -> list[Any]:
    return [e for a in aggregates for e in a.collect_events()]


def project(stream: list[Any]) -> MemoryRows:
    rows = MemoryRows()
    for position, event in enumerate(stream, start=1):
        rows.apply(changes_for(event), Tracking("Slotwise", position))
    return rows


def new_provider(profile: dict[str, Any] | None = None) -> Provider:
    return Provider.register(uuid4(), dict(profile or PROFILE), META)


def new_slot(provider_id: UUID, capacity: int = 1) -> Slot:
    return Slot.create(
        slot_id=uuid4(),
        provider_id=provider_id,
        time=TimeRange(START, END),
        capacity=capacity,
        overbook_allowance=1,
        appointment_types=["in_person"],
        location=None,
        room=None,
        meta=META,
    )


def new_appointment(slot: Slot, hold_until: datetime | None = None) -> Appointment:
    appointment_id = uuid4()
    now = START - timedelta(days=2)
    slot.take_seat(
        appointment_id, "in_person", now, hold_until=hold_until, may_overbook=False, meta=META
    )
    return Appointment.schedule(
        appointment_id=appointment_id,
        patient_id=uuid4(),
        provider_id=slot.provider_id,
        slot_id=slot.id,
        start=slot.start,
        end=slot.end,
        appointment_type="in_person",
        reason="checkup",
        symptoms=[],
        hold_expires_at=hold_until,
        overbooked=False,
        meta=META,
    )


def a_completed_visit() -> tuple[Provider, Slot, Appointment]:
    provider = new_provider()
    slot = new_slot(provider.id)
    appointment = new_appointment(slot)
    appointment.confirm(META)
    appointment.check_in(START - timedelta(minutes=10), WINDOW, META)
    appointment.begin(START + timedelta(minutes=7), META)
    appointment.complete(START + timedelta(minutes=27), "", "", {}, True, META)
    return provider, slot, appointment


def test_a_completed_visit_records_each_lifecycle_instant_its_wait_and_duration() -> None:
    provider, slot, appointment = a_completed_visit()
    stream = events(provider, slot, appointment)

    row = project(stream).row(APPOINTMENTS, id=appointment.id)

    assert row is not None
    scheduled = next(e for e in stream if type(e).__qualname__ == "Appointment.Scheduled")
    assert row["status"] == "completed"
    assert row["provider_id"] == provider.id
    assert row["slot_id"] == slot.id
    assert row["appointment_type"] == "in_person"
    assert row["start_at"] == START
    assert row["booked_at"] == scheduled.timestamp
    assert row["scheduled_at"] == scheduled.timestamp
    assert row["confirmed_at"] is not None
    assert row["checked_in_at"] == START - timedelta(minutes=10)
    assert row["started_at"] == START + timedelta(minutes=7)
    assert row["completed_at"] == START + timedelta(minutes=27)
    assert row["wait_seconds"] == 7 * 60  # from the start, as the patient came early
    assert row["duration_seconds"] == 20 * 60
    assert row["follow_up_requested"] is True
    assert row["version"] == appointment.version


def test_a_hold_is_not_booked_until_it_is_converted() -> None:
    provider = new_provider()
    slot = new_slot(provider.id)
    appointment = new_appointment(slot, hold_until=START - timedelta(days=2, minutes=-10))
    held = project(events(provider, slot, appointment))
    held_row = held.row(APPOINTMENTS, id=appointment.id)
    assert held_row is not None
    assert held_row["booked_at"] is None
    assert held.row(SEATS, slot_id=slot.id, appointment_id=appointment.id) == {
        "slot_id": slot.id,
        "appointment_id": appointment.id,
        "held": True,
    }

    appointment.book_from_hold(START - timedelta(days=2), META)
    slot.convert_hold(appointment.id, START - timedelta(days=2), META)
    converted = events(appointment, slot)
    for position, event in enumerate(converted, start=100):
        held.apply(changes_for(event), Tracking("Slotwise", position))

    row = held.row(APPOINTMENTS, id=appointment.id)
    assert row is not None
    assert row["status"] == "booked"
    assert row["booked_at"] == converted[0].timestamp
    seat = held.row(SEATS, slot_id=slot.id, appointment_id=appointment.id)
    assert seat is not None
    assert seat["held"] is False


def test_an_expired_hold_is_cancelled_without_being_booked() -> None:
    provider = new_provider()
    slot = new_slot(provider.id)
    until = START - timedelta(days=2, minutes=-10)
    appointment = new_appointment(slot, hold_until=until)
    appointment.expire_hold(until, META)
    slot.release_seat(appointment.id, "hold expired", META)

    rows = project(events(provider, slot, appointment))

    row = rows.row(APPOINTMENTS, id=appointment.id)
    assert row is not None
    assert row["status"] == "cancelled"
    assert row["booked_at"] is None
    assert row["hold_expired_at"] is not None
    assert row.get("cancelled_at") is None
    assert rows.row(SEATS, slot_id=slot.id, appointment_id=appointment.id) is None


@pytest.mark.parametrize(("hours_before", "late"), [(48, False), (3, True)])
def test_a_cancellation_records_whether_it_was_late(hours_before: int, late: bool) -> None:
    provider = new_provider()
    slot = new_slot(provider.id)
    appointment = new_appointment(slot)
    at = START - timedelta(hours=hours_before)
    appointment.cancel(at, "away", NOTICE, None, None, META)

    row = project(events(provider, slot, appointment)).row(APPOINTMENTS, id=appointment.id)

    assert row is not None
    assert row["status"] == "cancelled"
    assert row["cancelled_at"] == at
    assert row["late_cancellation"] is late


def test_a_no_show_and_its_reversal_restore_the_earlier_status() -> None:
    provider = new_provider()
    slot = new_slot(provider.id)
    appointment = new_appointment(slot)
    appointment.confirm(META)
    appointment.mark_no_show(START + GRACE.grace, GRACE, META)
    rows = project(events(provider, slot, appointment))
    row = rows.row(APPOINTMENTS, id=appointment.id)
    assert row is not None
    assert row["status"] == "no_show"

    appointment.revert_no_show("came late", META)
    for event in events(appointment):
        rows.apply(changes_for(event), Tracking("Slotwise", 99))

    row = rows.row(APPOINTMENTS, id=appointment.id)
    assert row is not None
    assert row["status"] == "confirmed"
    assert row["no_show_at"] is None


def test_a_reschedule_moves_the_fact_to_the_new_start_and_slot() -> None:
    provider = new_provider()
    slot = new_slot(provider.id)
    appointment = new_appointment(slot)
    later = START + timedelta(days=1)
    new_slot_id = uuid4()
    appointment.reschedule(new_slot_id, later, later + timedelta(minutes=30), "moved", META)

    row = project(events(provider, slot, appointment)).row(APPOINTMENTS, id=appointment.id)

    assert row is not None
    assert row["start_at"] == later
    assert row["slot_id"] == new_slot_id
    assert row["status"] == "booked"
    assert row["rescheduled_at"] is not None


def test_the_provider_dimension_keeps_zone_first_specialty_and_fee() -> None:
    provider = new_provider()
    rows = project(events(provider))
    assert rows.row(PROVIDERS, id=provider.id) == {
        "id": provider.id,
        "name": "Dr Ada",
        "time_zone": "America/New_York",
        "specialty": "cardiology",
        "fee_amount": Decimal("80.00"),
        "fee_currency": "USD",
        "version": 1,
        "updated_at": provider.modified_on,
    }

    provider.update({"specializations": [], "fee_amount": Decimal("95.50")}, META)
    [updated] = changes_for(events(provider)[0])

    assert isinstance(updated, Update)
    assert updated.key == {"id": provider.id}
    assert updated.values["specialty"] is None
    assert updated.values["fee_amount"] == Decimal("95.50")
    assert "time_zone" not in updated.values  # a partial update leaves other columns alone


def test_a_provider_without_specializations_or_fee_has_nulls_there() -> None:
    provider = new_provider({"name": "Dr Bo", "time_zone": "UTC"})
    row = project(events(provider)).row(PROVIDERS, id=provider.id)
    assert row is not None
    assert (row["specialty"], row["fee_amount"], row["fee_currency"]) == (None, None, None)


def test_slot_seats_follow_takes_and_releases_and_the_status_follows_blocks() -> None:
    provider = new_provider()
    slot = new_slot(provider.id, capacity=2)
    first, second = new_appointment(slot), new_appointment(slot)
    slot.release_seat(first.id, "cancelled", META)
    slot.block("sick", START - timedelta(days=1), META)
    rows = project(events(provider, slot, first, second))

    assert rows.row(SEATS, slot_id=slot.id, appointment_id=first.id) is None
    assert rows.row(SEATS, slot_id=slot.id, appointment_id=second.id) is not None
    row = rows.row(SLOTS, id=slot.id)
    assert row is not None
    assert (row["status"], row["capacity"], row["provider_id"]) == ("blocked", 2, provider.id)

    slot.unblock(META)
    for event in events(slot):
        rows.apply(changes_for(event), Tracking("Slotwise", 99))
    row = rows.row(SLOTS, id=slot.id)
    assert row is not None
    assert row["status"] == "open"


def test_applying_every_event_twice_changes_nothing() -> None:
    provider, slot, appointment = a_completed_visit()
    stream = events(provider, slot, appointment)

    once = project(stream)
    twice = project([e for e in stream for _ in range(2)])

    assert twice.tables == once.tables


def test_events_of_different_aggregates_give_the_same_rows_in_any_interleaving() -> None:
    provider, slot, appointment = a_completed_visit()
    per_aggregate = [events(provider), events(slot), events(appointment)]
    expected = project([e for stream in per_aggregate for e in stream]).tables

    for order in itertools.permutations(per_aggregate):
        assert project([e for stream in order for e in stream]).tables == expected
    # Round robin too: one event of each aggregate in turn.
    mixed = [e for batch in itertools.zip_longest(*reversed(per_aggregate)) for e in batch if e]
    assert project(mixed).tables == expected


def test_rows_are_keyed_by_the_id_of_the_aggregate_whose_events_write_them() -> None:
    provider, slot, appointment = a_completed_visit()
    for event in events(provider, slot, appointment):
        for change in changes_for(event):
            key_id = change.key.get("id", change.key.get("slot_id"))
            assert key_id == event.originator_id, (type(event).__qualname__, change)


def recorded_event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The event classes an aggregate records: its nested events without the bases `Event`
    and, when `__init__` records an event of another name, the unused `Created`."""
    nested = [
        v
        for v in vars(aggregate).values()
        if isinstance(v, type) and issubclass(v, Aggregate.Event)
    ]
    created = [c for c in nested if issubclass(c, Aggregate.Created)]
    return [
        c
        for c in nested
        if c.__name__ != "Event" and not (c.__name__ == "Created" and len(created) > 1)
    ]


def test_every_event_of_the_measured_aggregates_has_a_handler() -> None:
    for aggregate in (Appointment, Slot, Provider):
        recorded = recorded_event_classes(aggregate)
        assert len(recorded) > 1
        for event_class in recorded:
            assert event_class in analytics.HANDLERS, event_class.__qualname__


def test_an_event_analytics_ignores_makes_no_change_but_still_advances_the_position() -> None:
    patient = Patient(details={"name": "Grace", "time_zone": "UTC"}, meta=META, id=uuid4())
    patient.set_legal_hold("litigation", META)
    [_, held] = patient.collect_events()
    rows = MemoryRows()

    AnalyticsProjection(view=rows).process_event(held, Tracking("Slotwise", 42))

    assert changes_for(held) == []
    assert rows.positions == [42]
    assert rows.tables == {}


def test_the_analytics_projection_has_its_own_name_and_so_its_own_tracking_table() -> None:
    assert AnalyticsProjection.name == "analytics"
    assert scheduling.SchedulingProjection.name != AnalyticsProjection.name


def test_the_scheduling_projection_keeps_its_own_handlers() -> None:
    provider = new_provider()
    [registered] = events(provider)
    [change] = scheduling.changes_for(registered)
    assert isinstance(change, Upsert)
    assert change.table == "rm_providers"
    assert Patient.Registered in scheduling.HANDLERS
    assert Patient.LegalHoldSet not in analytics.HANDLERS  # analytics keeps only bands of patients


def test_a_second_handler_for_one_event_is_refused() -> None:
    handlers: Handlers[list[Change]] = Handlers(list)
    handlers.on(Slot.Created)(lambda event: [])
    with pytest.raises(ValueError, match=r"Slot\.Created"):
        handlers.on(Slot.Created)(lambda event: [])


# --- measures ---------------------------------------------------------------------------------


def test_a_ratio_with_a_zero_denominator_is_null_not_zero() -> None:
    assert ratio(0, 0) is None
    assert ratio(3, 0) is None
    assert ratio(Decimal(0), Decimal(0)) is None
    assert ratio(0, 4) == Decimal("0.0000")
    assert ratio(1, 3) == Decimal("0.3333")
    assert ratio(2, 3) == Decimal("0.6667")


def test_figures_take_each_rate_over_its_own_denominator() -> None:
    counts = Counts(
        appointments=12,
        booked=10,
        due=6,
        completed=4,
        no_shows=2,
        cancelled=4,
        late_cancelled=1,
        mean_wait_seconds=Decimal("300.25"),
        mean_duration_seconds=Decimal("1200"),
        mean_lead_time_seconds=Decimal("86400.04"),
    )
    figures = AppointmentFigures.of(counts)
    assert figures.completion_rate == Decimal("0.6667")  # 4 completed / 6 due
    assert figures.no_show_rate == Decimal("0.3333")  # 2 no-shows / 6 due
    assert figures.cancellation_rate == Decimal("0.4000")  # 4 cancelled / 10 booked
    assert figures.late_cancellation_rate == Decimal("0.2500")  # 1 late / 4 cancelled
    assert figures.average_wait_seconds == Decimal("300.2")
    assert figures.average_duration_seconds == Decimal("1200.0")
    assert figures.average_lead_time_seconds == Decimal("86400.0")


def test_figures_of_nothing_are_zero_counts_and_null_rates_and_averages() -> None:
    empty = Counts(
        appointments=0, booked=0, due=0, completed=0, no_shows=0, cancelled=0, late_cancelled=0
    )
    figures = AppointmentFigures.of(empty)
    assert figures.booked == 0
    for name in (
        "completion_rate",
        "no_show_rate",
        "cancellation_rate",
        "late_cancellation_rate",
        "average_wait_seconds",
        "average_duration_seconds",
        "average_lead_time_seconds",
    ):
        assert getattr(figures, name) is None, name


def test_utilization_is_booked_over_open_seat_minutes_and_null_with_nothing_open() -> None:
    assert Utilization.of(2, Decimal(60), Decimal(45), 0).utilization == Decimal("0.7500")
    overbooked = Utilization.of(1, Decimal(30), Decimal(60), 1)
    assert overbooked.utilization == Decimal("2.0000")
    assert Utilization.of(0, Decimal(0), Decimal(0), 0).utilization is None
    assert seconds(None) is None
