"""Every command through the Scheduling application on PostgreSQL. Outcomes are checked on
aggregates loaded by a second application on the same store, and on the stored events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    ExpireHold,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
    StartAppointment,
)
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterProvider,
    UpdatePatient,
    UpdateProvider,
)
from commands.scheduling import Scheduling
from commands.slots.handlers import generated_slot_id
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    GenerateSlots,
    UnblockWindow,
    WorkingSession,
)
from domain.agenda import PatientAgenda
from domain.appointment import Appointment, Status
from domain.calendar import ProviderCalendar
from domain.errors import (
    ConflictError,
    SlotFullError,
    SlotUnavailableError,
    TooEarlyError,
)
from domain.patient import Patient
from domain.personal import PersonalData
from domain.provider import Provider
from domain.slot import Slot, SlotStatus
from tests.builders import (
    STAFF,
    SYSTEM,
    T0,
    as_staff,
    as_system,
    book,
    create_slot,
    events_between,
    hold,
    names,
    register_patient,
    register_provider,
)
from tests.fakes import FixedClock

TEN = T0 + timedelta(hours=2)  # 10:00 UTC
HALF_HOUR = timedelta(minutes=30)


def agenda_of(app: Scheduling, patient_id: UUID, day: date) -> PatientAgenda:
    return app.load(PatientAgenda, PatientAgenda.create_id(patient_id, day), "agenda")


def test_providers_and_patients_are_registered_and_updated_in_the_store(
    app: Scheduling, other_app: Scheduling
) -> None:
    before = app.head_position()
    provider_id = app.register_provider(
        RegisterProvider(
            profile=ProviderProfile(
                name="Dr Ada Lovelace", time_zone="Europe/Berlin", specializations=["cardiology"]
            )
        ),
        as_staff(),
    ).id
    app.update_provider(
        UpdateProvider(
            provider_id=provider_id, profile=ProviderProfile(bio="Heart", languages=["en", "de"])
        ),
        as_staff(),
    )
    patient_id = register_patient(app)
    last = app.update_patient(
        UpdatePatient(patient_id=patient_id, details=PatientDetails(phone="+4930123456")),
        as_staff(),
    )

    provider = other_app.load(Provider, provider_id, "provider")
    assert provider.profile == {
        "name": "Dr Ada Lovelace",
        "time_zone": "Europe/Berlin",
        "specializations": ["cardiology"],
        "bio": "Heart",
        "languages": ["en", "de"],
    }
    patient = other_app.load(Patient, patient_id, "patient")
    assert patient.details == {
        "name": PersonalData(patient_id, "Grace Hopper"),
        "time_zone": "Europe/Berlin",
        "phone": PersonalData(patient_id, "+4930123456"),
    }
    events = events_between(app, before, last.position)
    assert names(events) == [
        "Provider.Registered",
        "Provider.ProfileUpdated",
        "Patient.Registered",
        "Patient.DetailsUpdated",
    ]
    assert [e.meta.command for e in events] == [
        "RegisterProvider",
        "UpdateProvider",
        "RegisterPatient",
        "UpdatePatient",
    ]
    assert {e.meta.actor_id for e in events} == {STAFF.subject}
    assert events[1].changes == {"bio": "Heart", "languages": ["en", "de"]}


def test_an_update_that_changes_nothing_records_no_event(app: Scheduling) -> None:
    provider_id = register_provider(app)
    head = app.head_position()

    result = app.update_provider(
        UpdateProvider(provider_id=provider_id, profile=ProviderProfile(name="Dr Ada Lovelace")),
        as_staff(),
    )

    assert result.position == head
    assert app.head_position() == head


def test_registering_a_provider_id_twice_is_a_conflict(app: Scheduling) -> None:
    provider_id = uuid4()
    profile = ProviderProfile(name="Dr Who", time_zone="UTC")
    app.register_provider(RegisterProvider(provider_id=provider_id, profile=profile), as_staff())

    with pytest.raises(ConflictError):
        app.register_provider(
            RegisterProvider(provider_id=provider_id, profile=profile), as_staff()
        )


def test_a_created_slot_is_stored_with_its_calendar_entry(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    before = app.head_position()

    slot_id = create_slot(app, provider_id, TEN, capacity=3, room="2.14")

    slot = other_app.load(Slot, slot_id, "slot")
    assert (slot.provider_id, slot.start, slot.end) == (provider_id, TEN, TEN + HALF_HOUR)
    assert (slot.capacity, slot.room, slot.status) == (3, "2.14", SlotStatus.OPEN)
    calendar = other_app.load(
        ProviderCalendar, ProviderCalendar.create_id(provider_id, TEN.date()), "calendar"
    )
    assert calendar.entries == {slot_id: (TEN, TEN + HALF_HOUR)}
    stored = names(events_between(app, before, app.head_position()))
    assert sorted(stored) == [
        "ProviderCalendar.Opened",
        "ProviderCalendar.SlotPlaced",
        "Slot.Created",
    ]


def test_generating_the_same_slots_twice_creates_nothing_new(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app, zone="Europe/Berlin")
    command = GenerateSlots(
        provider_id=provider_id,
        first_day=date(2026, 11, 23),
        last_day=date(2026, 11, 24),
        sessions=[
            WorkingSession(weekday=d, start=time(9), end=time(11), slot_minutes=30) for d in (1, 2)
        ],
    )
    before = app.head_position()

    first = app.generate_slots(command, as_staff())
    again = app.generate_slots(command, as_staff())

    created = events_between(app, before, first.position)
    slot_ids = [e.originator_id for e in created if type(e).__qualname__ == "Slot.Created"]
    starts = [
        datetime(2026, 11, d, h, m, tzinfo=UTC) for d in (23, 24) for h in (8, 9) for m in (0, 30)
    ]
    assert sorted(slot_ids) == sorted(generated_slot_id(provider_id, s) for s in starts)
    assert again.position == first.position
    assert app.head_position() == first.position
    assert all(other_app.load(Slot, s, "slot").version == 1 for s in slot_ids)


def test_slots_generated_across_a_dst_change_start_at_the_right_utc_instants(
    app: Scheduling, other_app: Scheduling, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    provider_id = register_provider(app, zone="America/New_York")
    nine = WorkingSession(weekday=1, start=time(9), end=time(10), slot_minutes=60)
    command = GenerateSlots(
        provider_id=provider_id,
        first_day=date(2026, 3, 7),  # Saturday; clocks spring forward on Sunday 8 March
        last_day=date(2026, 3, 9),
        sessions=[
            WorkingSession(weekday=6, start=time(9), end=time(10), slot_minutes=60),
            WorkingSession(weekday=7, start=time(1), end=time(4), slot_minutes=60),
            WorkingSession(weekday=7, start=time(9), end=time(10), slot_minutes=60),
            nine,
        ],
    )
    before = app.head_position()

    result = app.generate_slots(command, as_staff())

    slot_ids = [
        e.originator_id
        for e in events_between(app, before, result.position)
        if type(e).__qualname__ == "Slot.Created"
    ]
    slots = sorted((other_app.load(Slot, s, "slot") for s in slot_ids), key=lambda s: s.start)
    assert [(s.start, s.end - s.start) for s in slots] == [
        (datetime(2026, 3, 7, 14, 0, tzinfo=UTC), timedelta(hours=1)),  # 09:00 EST
        # 01:00-02:00 and 02:00-03:00 touch the gap and are skipped; 03:00 EDT is real.
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), timedelta(hours=1)),
        (datetime(2026, 3, 8, 13, 0, tzinfo=UTC), timedelta(hours=1)),  # 09:00 EDT
        (datetime(2026, 3, 9, 13, 0, tzinfo=UTC), timedelta(hours=1)),
    ]
    new_york = ZoneInfo("America/New_York")
    assert [s.start.astimezone(new_york).hour for s in slots] == [9, 3, 9, 9]
    assert [s.id for s in slots] == [generated_slot_id(provider_id, s.start) for s in slots]


def test_blocking_a_window_blocks_every_slot_it_touches_and_unblocking_reopens_them(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    starts = [TEN - HALF_HOUR + n * HALF_HOUR for n in range(5)]  # 09:30 .. 11:30
    slot_ids = [create_slot(app, provider_id, s) for s in starts]
    patient_id = register_patient(app)
    booked = book(app, slot_ids[1], patient_id).id
    window = BlockWindow(
        provider_id=provider_id,
        start=TEN + timedelta(minutes=15),
        end=TEN + timedelta(minutes=75),  # 10:15-11:15 cuts into 10:00 and 11:00
        reason="staff meeting",
    )
    before = app.head_position()

    blocked = app.block_window(window, as_staff())

    statuses = [other_app.load(Slot, s, "slot").status for s in slot_ids]
    assert statuses == [
        SlotStatus.OPEN,  # 09:30-10:00 ends before the window
        SlotStatus.BLOCKED,  # 10:00-10:30 straddles its start
        SlotStatus.BLOCKED,
        SlotStatus.BLOCKED,  # 11:00-11:30 straddles its end
        SlotStatus.OPEN,  # 11:30-12:00 starts after it
    ]
    events = events_between(app, before, blocked.position)
    assert sorted(e.originator_id for e in events) == sorted(slot_ids[1:4])
    affected = {e.originator_id: e.affected_appointment_ids for e in events}
    assert affected[slot_ids[1]] == [booked]
    assert affected[slot_ids[2]] == []
    with pytest.raises(SlotUnavailableError):
        book(app, slot_ids[2], patient_id)
    head = app.head_position()

    unblocked = app.unblock_window(
        UnblockWindow(provider_id=provider_id, start=window.start, end=window.end), as_staff()
    )

    assert [other_app.load(Slot, s, "slot").status for s in slot_ids] == [SlotStatus.OPEN] * 5
    reopened = events_between(app, head, unblocked.position)
    assert names(reopened) == ["Slot.Unblocked"] * 3
    assert other_app.load(Appointment, booked, "appointment").status is Status.BOOKED


def test_a_cancelled_slot_leaves_the_calendar_and_takes_no_bookings(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN)

    app.cancel_slot(CancelSlot(slot_id=slot_id, reason="on leave"), as_staff())

    assert other_app.load(Slot, slot_id, "slot").status is SlotStatus.CANCELLED
    calendar = other_app.load(
        ProviderCalendar, ProviderCalendar.create_id(provider_id, TEN.date()), "calendar"
    )
    assert slot_id not in calendar.entries
    assert calendar.was_removed(slot_id)
    with pytest.raises(SlotUnavailableError):
        book(app, slot_id, register_patient(app))
    # The time is free again for a new slot.
    replacement = create_slot(app, provider_id, TEN)
    assert other_app.load(Slot, replacement, "slot").status is SlotStatus.OPEN


def test_a_slot_with_a_booking_cannot_be_cancelled(app: Scheduling, other_app: Scheduling) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN)
    book(app, slot_id, register_patient(app))

    with pytest.raises(ConflictError):
        app.cancel_slot(CancelSlot(slot_id=slot_id, reason="on leave"), as_staff())

    assert other_app.load(Slot, slot_id, "slot").status is SlotStatus.OPEN


def test_a_hold_takes_a_seat_and_booking_it_makes_the_seat_permanent(
    app: Scheduling, other_app: Scheduling, clock: FixedClock
) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN)
    patient_id = register_patient(app)

    held = hold(app, slot_id, patient_id, minutes=10)

    appointment = other_app.load(Appointment, held.id, "appointment")
    assert appointment.status is Status.HELD
    assert appointment.hold_expires_at == T0 + timedelta(minutes=10)
    assert other_app.load(Slot, slot_id, "slot").allocations[held.id].expires_at == (
        T0 + timedelta(minutes=10)
    )
    with pytest.raises(SlotFullError):
        book(app, slot_id, register_patient(app))
    head = app.head_position()

    clock.advance(minutes=5)
    booked = app.book(BookAppointment(appointment_id=held.id), as_staff())

    assert booked.id == held.id
    appointment = other_app.load(Appointment, held.id, "appointment")
    assert (appointment.status, appointment.hold_expires_at) == (Status.BOOKED, None)
    assert other_app.load(Slot, slot_id, "slot").allocations[held.id].expires_at is None
    assert agenda_of(other_app, patient_id, TEN.date()).entries[held.id].hold_expires_at is None
    assert sorted(names(events_between(app, head, booked.position))) == [
        "Appointment.BookedFromHold",
        "PatientAgenda.Confirmed",
        "Slot.HoldConverted",
    ]


def test_an_appointment_is_confirmed_checked_in_started_and_completed(
    app: Scheduling, other_app: Scheduling, clock: FixedClock
) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN)
    patient_id = register_patient(app)
    booked = book(app, slot_id, patient_id, reason="checkup", symptoms=["cough"])
    appointment_id = booked.id

    app.confirm(ConfirmAppointment(appointment_id=appointment_id), as_staff())
    clock.set(TEN - timedelta(minutes=15))
    app.check_in(CheckIn(appointment_id=appointment_id), as_staff())
    clock.set(TEN + timedelta(minutes=5))
    app.start(StartAppointment(appointment_id=appointment_id), as_staff())
    clock.set(TEN + timedelta(minutes=25))
    done = app.complete(
        CompleteAppointment(
            appointment_id=appointment_id,
            notes="fine",
            vitals={"pulse": 64},
            follow_up_requested=True,
        ),
        as_staff(),
    )

    appointment = other_app.load(Appointment, appointment_id, "appointment")
    assert appointment.status is Status.COMPLETED
    assert appointment.checked_in_at == TEN - timedelta(minutes=15)
    assert appointment.started_at == TEN + timedelta(minutes=5)
    assert appointment.completed_at == TEN + timedelta(minutes=25)
    patient = appointment.patient_id
    assert appointment.reason == PersonalData(patient, "checkup")
    assert appointment.symptoms == PersonalData(patient, ["cough"])
    events = events_between(app, booked.position, done.position)
    assert names(events, appointment_id) == [
        "Appointment.Confirmed",
        "Appointment.CheckedIn",
        "Appointment.Started",
        "Appointment.Completed",
    ]
    started, completed = events[2], events[3]
    assert started.wait_seconds == 300  # from the scheduled start, as the patient came early
    assert completed.duration_seconds == 1200
    assert completed.vitals == PersonalData(patient_id, {"pulse": 64})
    # A finished visit keeps its seat: the slot is not offered again.
    assert appointment_id in other_app.load(Slot, slot_id, "slot").allocations


def test_checking_in_before_the_window_opens_is_refused(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    appointment_id = book(app, create_slot(app, provider_id, TEN), register_patient(app)).id

    with pytest.raises(TooEarlyError):
        app.check_in(CheckIn(appointment_id=appointment_id), as_staff())

    assert other_app.load(Appointment, appointment_id, "appointment").status is Status.BOOKED


def test_cancelling_inside_the_notice_is_late_and_charges_the_fee(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN)  # two hours away: inside 24 h notice
    patient_id = register_patient(app)
    booked = book(app, slot_id, patient_id)

    cancelled = app.cancel(
        CancelAppointment(
            appointment_id=booked.id, reason="ill", fee=Decimal("25.00"), currency="EUR"
        ),
        as_staff(),
    )

    assert other_app.load(Appointment, booked.id, "appointment").status is Status.CANCELLED
    assert other_app.load(Slot, slot_id, "slot").allocations == {}
    assert agenda_of(other_app, patient_id, TEN.date()).entries == {}
    events = events_between(app, booked.position, cancelled.position)
    (event,) = [e for e in events if type(e).__qualname__ == "Appointment.Cancelled"]
    assert (event.late, event.fee, event.currency, event.reason) == (
        True,
        Decimal("25.00"),
        "EUR",
        PersonalData(patient_id, "ill"),
    )
    # The fee is charged to the appointment's account in the same save (issue 14).
    assert sorted(set(names(events)) - {"Account.Opened"}) == [
        "Account.FeeCharged",
        "Appointment.Cancelled",
        "PatientAgenda.Withdrawn",
        "Slot.SeatReleased",
    ]


def test_cancelling_with_enough_notice_is_not_late_and_charges_nothing(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN + timedelta(days=2))
    booked = book(app, slot_id, register_patient(app))

    cancelled = app.cancel(
        CancelAppointment(
            appointment_id=booked.id, reason="ill", fee=Decimal("25.00"), currency="EUR"
        ),
        as_staff(),
    )

    (event,) = [
        e
        for e in events_between(app, booked.position, cancelled.position)
        if type(e).__qualname__ == "Appointment.Cancelled"
    ]
    assert (event.late, event.fee, event.currency) == (False, None, None)
    # The freed seat can be booked by someone else.
    assert book(app, slot_id, register_patient(app)).id != booked.id


def test_rescheduling_moves_the_seat_and_frees_the_old_one(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    old_slot = create_slot(app, provider_id, TEN)
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=1))
    patient_id = register_patient(app)
    booked = book(app, old_slot, patient_id)
    app.confirm(ConfirmAppointment(appointment_id=booked.id), as_staff())

    moved = app.reschedule(
        RescheduleAppointment(appointment_id=booked.id, new_slot_id=new_slot, reason="clash"),
        as_staff(),
    )

    assert (moved.id, moved.ids["slot_id"]) == (booked.id, new_slot)
    appointment = other_app.load(Appointment, booked.id, "appointment")
    assert (appointment.slot_id, appointment.start, appointment.status) == (
        new_slot,
        TEN + timedelta(hours=1),
        Status.CONFIRMED,  # only the time moved, with the same provider: still confirmed
    )
    assert appointment.reschedule_count == 1
    assert other_app.load(Slot, old_slot, "slot").allocations == {}
    assert set(other_app.load(Slot, new_slot, "slot").allocations) == {booked.id}
    entries = agenda_of(other_app, patient_id, TEN.date()).entries
    assert {k: v.start for k, v in entries.items()} == {booked.id: TEN + timedelta(hours=1)}
    # The old slot has its seat back.
    assert book(app, old_slot, register_patient(app)).id != booked.id


def test_rescheduling_into_a_full_slot_fails_and_keeps_the_old_booking(
    app: Scheduling, other_app: Scheduling
) -> None:
    provider_id = register_provider(app)
    old_slot = create_slot(app, provider_id, TEN)
    full_slot = create_slot(app, provider_id, TEN + timedelta(hours=1))
    booked = book(app, old_slot, register_patient(app))
    other = book(app, full_slot, register_patient(app))
    head = app.head_position()

    with pytest.raises(SlotFullError):
        app.reschedule(
            RescheduleAppointment(appointment_id=booked.id, new_slot_id=full_slot), as_staff()
        )

    assert app.head_position() == head
    appointment = other_app.load(Appointment, booked.id, "appointment")
    assert (appointment.slot_id, appointment.status) == (old_slot, Status.BOOKED)
    assert set(other_app.load(Slot, old_slot, "slot").allocations) == {booked.id}
    assert set(other_app.load(Slot, full_slot, "slot").allocations) == {other.id}


def test_a_no_show_is_recorded_after_the_grace_and_reverted_to_the_previous_status(
    app: Scheduling, other_app: Scheduling, clock: FixedClock
) -> None:
    provider_id = register_provider(app)
    booked = book(app, create_slot(app, provider_id, TEN), register_patient(app))
    app.confirm(ConfirmAppointment(appointment_id=booked.id), as_staff())
    clock.set(TEN + timedelta(minutes=10))
    with pytest.raises(TooEarlyError):
        app.mark_no_show(MarkNoShow(appointment_id=booked.id), as_staff())

    clock.set(TEN + timedelta(minutes=16))
    marked = app.mark_no_show(MarkNoShow(appointment_id=booked.id), as_staff())

    assert other_app.load(Appointment, booked.id, "appointment").status is Status.NO_SHOW

    reverted = app.revert_no_show(
        RevertNoShow(appointment_id=booked.id, reason="was in the waiting room"), as_staff()
    )

    assert other_app.load(Appointment, booked.id, "appointment").status is Status.CONFIRMED
    events = events_between(app, marked.position - 1, reverted.position)
    assert names(events, booked.id) == ["Appointment.MarkedNoShow", "Appointment.NoShowReverted"]
    assert (events[0].previous_status, events[0].at) == ("confirmed", TEN + timedelta(minutes=16))
    assert events[1].restored_status == "confirmed"


def test_an_expired_hold_gives_its_seat_back(
    app: Scheduling, other_app: Scheduling, clock: FixedClock
) -> None:
    provider_id = register_provider(app)
    slot_id = create_slot(app, provider_id, TEN)
    patient_id = register_patient(app)
    held = hold(app, slot_id, patient_id, minutes=10)
    with pytest.raises(TooEarlyError):
        app.expire_hold(ExpireHold(appointment_id=held.id), as_system())

    clock.advance(minutes=10)
    expired = app.expire_hold(ExpireHold(appointment_id=held.id), as_system())

    assert other_app.load(Appointment, held.id, "appointment").status is Status.CANCELLED
    assert other_app.load(Slot, slot_id, "slot").allocations == {}
    assert agenda_of(other_app, patient_id, TEN.date()).entries == {}
    events = events_between(app, held.position, expired.position)
    assert sorted(names(events)) == [
        "Appointment.HoldExpired",
        "PatientAgenda.Withdrawn",
        "Slot.SeatReleased",
    ]
    assert {e.meta.actor_id for e in events} == {SYSTEM.subject}
    assert {e.meta.command for e in events} == {"ExpireHold"}
