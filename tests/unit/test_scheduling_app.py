from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands.application import IdempotencyKeyReusedError
from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
    ExpireHold,
    HoldAppointment,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
    StartAppointment,
)
from commands.context import CommandContext
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    UpdatePatient,
    UpdateProvider,
)
from commands.scheduling import Scheduling
from commands.slots.handlers import generated_slot_id
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    UnblockWindow,
    WorkingSession,
)
from domain.actor import Actor, EventMeta, Role
from domain.agenda import PatientAgenda
from domain.appointment import Appointment, Status
from domain.calendar import ProviderCalendar
from domain.errors import (
    AppointmentOverlapError,
    ConflictError,
    ForbiddenError,
    HoldExpiredError,
    NotFoundError,
    SlotFullError,
    SlotOverlapError,
    SlotUnavailableError,
    TooEarlyError,
    TooLateError,
    ValidationError,
)
from domain.patient import Patient
from domain.policies import BookingWindowError
from domain.provider import Provider
from domain.slot import Slot, SlotStatus
from tests.fakes import FixedClock

pytestmark = pytest.mark.unit

# Ignore any persistence settings of the shell: the unit suite runs in memory.
IN_MEMORY = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "SLOTWISE_PERSISTENCE_MODULE": "eventsourcing.popo",
}
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
TEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
STAFF = Actor(uuid4(), Role.STAFF)
SYSTEM = Actor(uuid4(), Role.SYSTEM)


def as_(actor: Actor, key: str | None = None) -> CommandContext:
    return CommandContext(actor, idempotency_key=key)


def patient(patient_id: UUID) -> Actor:
    return Actor(patient_id, Role.PATIENT)


def provider(provider_id: UUID) -> Actor:
    return Actor(provider_id, Role.PROVIDER)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(clock: FixedClock) -> Scheduling:
    return Scheduling(IN_MEMORY, clock=clock)


def register_provider(app: Scheduling, zone: str = "Europe/Berlin") -> UUID:
    profile = ProviderProfile(name="Dr Adams", time_zone=zone)
    return app.register_provider(RegisterProvider(profile=profile), as_(STAFF)).id


def register_patient(app: Scheduling) -> UUID:
    patient_id = uuid4()
    details = PatientDetails(name="Pat Doe", time_zone="Europe/Berlin")
    app.register_patient(RegisterPatient(details=details), as_(patient(patient_id)))
    return patient_id


def create_slot(
    app: Scheduling, provider_id: UUID, start: datetime = TEN, minutes: int = 30, **terms: Any
) -> UUID:
    end = start + timedelta(minutes=minutes)
    command = CreateSlot(provider_id=provider_id, start=start, end=end, **terms)
    return app.create_slot(command, as_(STAFF)).id


def book(app: Scheduling, patient_id: UUID, slot_id: UUID, **fields: Any) -> UUID:
    return app.book(BookAppointment(slot_id=slot_id, **fields), as_(patient(patient_id))).id


def hold(app: Scheduling, patient_id: UUID, slot_id: UUID, **fields: Any) -> UUID:
    command = HoldAppointment(slot_id=slot_id, appointment_type="in_person", **fields)
    return app.hold(command, as_(patient(patient_id))).id


def appointment_of(app: Scheduling, appointment_id: UUID) -> Appointment:
    return app.load(Appointment, appointment_id, "appointment")


def slot_of(app: Scheduling, slot_id: UUID) -> Slot:
    return app.load(Slot, slot_id, "slot")


def all_events(app: Scheduling, after: int = 0) -> list[Any]:
    notifications = app.recorder.select_notifications(start=after + 1, limit=100_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


@pytest.fixture
def provider_id(app: Scheduling) -> UUID:
    return register_provider(app)


@pytest.fixture
def patient_id(app: Scheduling) -> UUID:
    return register_patient(app)


@pytest.fixture
def slot_id(app: Scheduling, provider_id: UUID) -> UUID:
    return create_slot(app, provider_id)


# --- directory --------------------------------------------------------------------------------


def test_staff_register_a_provider_who_then_updates_their_own_profile(app: Scheduling) -> None:
    provider_id = register_provider(app)
    changes = ProviderProfile(bio="Family medicine", fee_amount=Decimal("80.00"))

    app.update_provider(
        UpdateProvider(provider_id=provider_id, profile=changes), as_(provider(provider_id))
    )

    registered = app.load(Provider, provider_id, "provider")
    profile = registered.profile
    assert profile["name"] == "Dr Adams"
    assert profile["bio"] == "Family medicine"
    assert registered.fee is not None
    assert registered.fee[0] == Decimal("80.00")


def test_updating_a_profile_with_unchanged_values_records_nothing(
    app: Scheduling, provider_id: UUID
) -> None:
    head = app.head_position()
    same = ProviderProfile(name="Dr Adams")
    app.update_provider(UpdateProvider(provider_id=provider_id, profile=same), as_(STAFF))
    assert app.head_position() == head


def test_a_provider_cannot_update_another_providers_profile(
    app: Scheduling, provider_id: UUID
) -> None:
    changes = UpdateProvider(provider_id=provider_id, profile=ProviderProfile(bio="hacked"))
    with pytest.raises(ForbiddenError):
        app.update_provider(changes, as_(provider(uuid4())))


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER, Role.AUDITOR])
def test_only_staff_register_providers(app: Scheduling, role: Role) -> None:
    command = RegisterProvider(profile=ProviderProfile(name="Dr X", time_zone="UTC"))
    with pytest.raises(ForbiddenError):
        app.register_provider(command, as_(Actor(uuid4(), role)))


def test_registering_a_provider_twice_is_a_conflict(app: Scheduling) -> None:
    command = RegisterProvider(
        provider_id=uuid4(), profile=ProviderProfile(name="Dr X", time_zone="UTC")
    )
    app.register_provider(command, as_(STAFF))
    with pytest.raises(ConflictError):
        app.register_provider(command, as_(STAFF))


@pytest.mark.parametrize(
    "profile",
    [
        ProviderProfile(time_zone="UTC"),
        ProviderProfile(name="Dr X", time_zone="Mars/Olympus_Mons"),
        ProviderProfile(name="   ", time_zone="UTC"),
    ],
    ids=["no-name", "unknown-zone", "blank-name"],
)
def test_an_invalid_provider_profile_is_rejected(app: Scheduling, profile: ProviderProfile) -> None:
    with pytest.raises(ValidationError):
        app.register_provider(RegisterProvider(profile=profile), as_(STAFF))


def test_a_patient_registers_themselves_under_the_id_of_their_token(app: Scheduling) -> None:
    me = uuid4()
    details = PatientDetails(name="Pat", time_zone="UTC")
    result = app.register_patient(RegisterPatient(details=details), as_(patient(me)))
    assert result.id == me
    with pytest.raises(ForbiddenError):
        app.register_patient(
            RegisterPatient(patient_id=uuid4(), details=details), as_(patient(uuid4()))
        )


def test_staff_register_a_patient_who_then_updates_their_details(app: Scheduling) -> None:
    details = PatientDetails(name="Pat", time_zone="UTC")
    patient_id = app.register_patient(RegisterPatient(details=details), as_(STAFF)).id

    changes = PatientDetails(phone="+4930123456", birth_date=date(1990, 1, 2))
    app.update_patient(
        UpdatePatient(patient_id=patient_id, details=changes), as_(patient(patient_id))
    )

    registered = app.load(Patient, patient_id, "patient")
    assert registered.details["phone"] == "+4930123456"
    assert registered.birth_date == date(1990, 1, 2)


def test_a_patient_cannot_update_another_patients_details(
    app: Scheduling, patient_id: UUID
) -> None:
    changes = UpdatePatient(patient_id=patient_id, details=PatientDetails(phone="+1555"))
    with pytest.raises(ForbiddenError):
        app.update_patient(changes, as_(patient(uuid4())))


def test_a_birth_date_after_today_on_the_clock_is_rejected(app: Scheduling) -> None:
    details = PatientDetails(name="Pat", time_zone="UTC", birth_date=date(2026, 11, 24))
    with pytest.raises(ValidationError):
        app.register_patient(RegisterPatient(details=details), as_(STAFF))


# --- slots ------------------------------------------------------------------------------------


def test_creating_a_slot_places_it_in_the_providers_calendar(
    app: Scheduling, provider_id: UUID
) -> None:
    slot_id = create_slot(app, provider_id, capacity=2, appointment_types=["video", "phone"])

    slot = slot_of(app, slot_id)
    assert (slot.start, slot.end, slot.capacity) == (TEN, TEN + HALF_HOUR, 2)
    assert slot.appointment_types == ["phone", "video"]
    calendar = app.load(
        ProviderCalendar, ProviderCalendar.create_id(provider_id, TEN.date()), "calendar"
    )
    assert calendar.entries == {slot_id: (TEN, TEN + HALF_HOUR)}


def test_a_provider_creates_slots_on_their_own_schedule_only(
    app: Scheduling, provider_id: UUID
) -> None:
    command = CreateSlot(provider_id=provider_id, start=TEN, end=TEN + HALF_HOUR)
    app.create_slot(command, as_(provider(provider_id)))
    later = CreateSlot(provider_id=provider_id, start=TEN + HALF_HOUR, end=TEN + 2 * HALF_HOUR)
    with pytest.raises(ForbiddenError):
        app.create_slot(later, as_(provider(uuid4())))
    with pytest.raises(ForbiddenError):
        app.create_slot(later, as_(patient(uuid4())))


def test_creating_an_overlapping_slot_is_rejected_but_an_adjacent_one_is_allowed(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    with pytest.raises(SlotOverlapError):
        create_slot(app, provider_id, TEN + timedelta(minutes=15))
    create_slot(app, provider_id, TEN - HALF_HOUR)
    create_slot(app, provider_id, TEN + HALF_HOUR)


def test_two_providers_may_have_slots_at_the_same_time(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    create_slot(app, register_provider(app))


def test_creating_a_slot_that_has_already_ended_is_rejected(
    app: Scheduling, provider_id: UUID
) -> None:
    with pytest.raises(ValidationError):
        create_slot(app, provider_id, T0 - HALF_HOUR)


def test_an_over_long_slot_location_is_rejected(app: Scheduling, provider_id: UUID) -> None:
    with pytest.raises(ValidationError):
        create_slot(app, provider_id, location="x" * 501)


def test_creating_a_slot_for_an_unknown_provider_is_not_found(app: Scheduling) -> None:
    with pytest.raises(NotFoundError):
        create_slot(app, uuid4())


def mornings(provider_id: UUID) -> GenerateSlots:
    """Tuesday mornings 09:00-12:00 in the provider's zone, for two weeks."""
    return GenerateSlots(
        provider_id=provider_id,
        first_day=date(2026, 11, 24),
        last_day=date(2026, 12, 1),
        sessions=[WorkingSession(weekday=2, start=time(9), end=time(12), slot_minutes=30)],
    )


def test_generating_slots_creates_them_in_the_providers_zone(
    app: Scheduling, provider_id: UUID
) -> None:
    app.generate_slots(mornings(provider_id), as_(provider(provider_id)))

    # Two Tuesdays of 09:00-12:00 Berlin (UTC+1 in winter), six 30-minute slots each.
    created = [e for e in all_events(app) if isinstance(e, Slot.Created)]
    assert len(created) == 12
    first = slot_of(app, generated_slot_id(provider_id, datetime(2026, 11, 24, 8, tzinfo=UTC)))
    assert first.end == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    last_start = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert slot_of(app, generated_slot_id(provider_id, last_start)).status is SlotStatus.OPEN


def test_generating_the_same_slots_twice_creates_nothing_new(
    app: Scheduling, provider_id: UUID
) -> None:
    app.generate_slots(mornings(provider_id), as_(STAFF))
    head = app.head_position()

    app.generate_slots(mornings(provider_id), as_(STAFF))

    assert app.head_position() == head


def test_generating_is_all_or_nothing_when_a_generated_slot_overlaps_an_existing_one(
    app: Scheduling, provider_id: UUID
) -> None:
    create_slot(app, provider_id, datetime(2026, 12, 1, 9, 15, tzinfo=UTC))
    head = app.head_position()

    with pytest.raises(SlotOverlapError):
        app.generate_slots(mornings(provider_id), as_(STAFF))

    assert app.head_position() == head
    first = generated_slot_id(provider_id, datetime(2026, 11, 24, 8, tzinfo=UTC))
    assert app.load_or_none(Slot, first) is None


def test_regenerating_after_a_generated_slot_was_cancelled_leaves_it_cancelled(
    app: Scheduling, provider_id: UUID
) -> None:
    app.generate_slots(mornings(provider_id), as_(STAFF))
    cancelled = generated_slot_id(provider_id, datetime(2026, 11, 24, 8, tzinfo=UTC))
    app.cancel_slot(CancelSlot(slot_id=cancelled, reason="training"), as_(STAFF))
    head = app.head_position()

    app.generate_slots(mornings(provider_id), as_(STAFF))

    assert app.head_position() == head
    assert slot_of(app, cancelled).status is SlotStatus.CANCELLED


def test_a_provider_cannot_generate_slots_for_another_provider(
    app: Scheduling, provider_id: UUID
) -> None:
    with pytest.raises(ForbiddenError):
        app.generate_slots(mornings(provider_id), as_(provider(uuid4())))


def half_hours(app: Scheduling, provider_id: UUID, first: datetime, count: int) -> list[UUID]:
    return [create_slot(app, provider_id, first + n * HALF_HOUR) for n in range(count)]


def block(app: Scheduling, provider_id: UUID, start: datetime, end: datetime) -> None:
    command = BlockWindow(provider_id=provider_id, start=start, end=end, reason="conference")
    app.block_window(command, as_(provider(provider_id)))


def statuses(app: Scheduling, slot_ids: list[UUID]) -> list[SlotStatus]:
    return [slot_of(app, s).status for s in slot_ids]


OPEN, BLOCKED = SlotStatus.OPEN, SlotStatus.BLOCKED


def test_blocking_a_window_blocks_slots_on_its_boundaries_but_not_adjacent_ones(
    app: Scheduling, provider_id: UUID
) -> None:
    # 10:00, 10:30, 11:00, 11:30, 12:00; the window is 10:30-12:00.
    slots = half_hours(app, provider_id, TEN, 5)
    block(app, provider_id, TEN + HALF_HOUR, TEN + 4 * HALF_HOUR)
    assert statuses(app, slots) == [OPEN, BLOCKED, BLOCKED, BLOCKED, OPEN]


def test_blocking_a_window_blocks_slots_that_only_partly_overlap_it(
    app: Scheduling, provider_id: UUID
) -> None:
    slots = half_hours(app, provider_id, TEN, 4)
    block(app, provider_id, TEN + timedelta(minutes=20), TEN + timedelta(minutes=70))
    assert statuses(app, slots) == [BLOCKED, BLOCKED, BLOCKED, OPEN]


def test_blocking_a_window_finds_slots_on_every_utc_day_it_touches(
    app: Scheduling, provider_id: UUID
) -> None:
    slots = half_hours(app, provider_id, datetime(2026, 11, 23, 23, 30, tzinfo=UTC), 2)
    block(
        app,
        provider_id,
        datetime(2026, 11, 23, 23, 45, tzinfo=UTC),
        datetime(2026, 11, 24, 0, 15, tzinfo=UTC),
    )
    assert statuses(app, slots) == [BLOCKED, BLOCKED]


def test_blocking_records_the_booked_appointments_it_affects(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    head = app.head_position()

    block(app, provider_id, TEN, TEN + HALF_HOUR)

    [blocked] = all_events(app, after=head)
    assert isinstance(blocked, Slot.Blocked)
    assert blocked.affected_appointment_ids == [appointment_id]


def test_a_blocked_slot_refuses_bookings_until_it_is_unblocked(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    block(app, provider_id, TEN, TEN + HALF_HOUR)
    with pytest.raises(SlotUnavailableError):
        book(app, patient_id, slot_id)

    unblock = UnblockWindow(provider_id=provider_id, start=T0, end=T0 + timedelta(hours=4))
    app.unblock_window(unblock, as_(STAFF))

    book(app, patient_id, slot_id)


def test_a_provider_cannot_block_or_cancel_on_another_providers_schedule(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    stranger = as_(provider(uuid4()))
    window = BlockWindow(provider_id=provider_id, start=TEN, end=TEN + HALF_HOUR, reason="x")
    with pytest.raises(ForbiddenError):
        app.block_window(window, stranger)
    with pytest.raises(ForbiddenError):
        app.cancel_slot(CancelSlot(slot_id=slot_id, reason="x"), stranger)
    assert slot_of(app, slot_id).status is SlotStatus.OPEN


def test_blocking_a_window_longer_than_92_days_is_rejected(
    app: Scheduling, provider_id: UUID
) -> None:
    with pytest.raises(ValidationError):
        block(app, provider_id, TEN, TEN + timedelta(days=93))


def test_cancelling_a_slot_frees_its_time_for_a_new_slot(
    app: Scheduling, provider_id: UUID, slot_id: UUID
) -> None:
    app.cancel_slot(CancelSlot(slot_id=slot_id, reason="training"), as_(provider(provider_id)))

    assert slot_of(app, slot_id).status is SlotStatus.CANCELLED
    create_slot(app, provider_id, TEN)


def test_cancelling_a_slot_with_a_booking_is_rejected(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    book(app, patient_id, slot_id)
    with pytest.raises(ConflictError):
        app.cancel_slot(CancelSlot(slot_id=slot_id, reason="x"), as_(STAFF))


# --- booking and holds ------------------------------------------------------------------------


def test_a_patient_books_a_free_slot(app: Scheduling, patient_id: UUID, slot_id: UUID) -> None:
    result = app.book(BookAppointment(slot_id=slot_id, reason="cough"), as_(patient(patient_id)))

    appointment = appointment_of(app, result.id)
    assert appointment.status is Status.BOOKED
    assert (appointment.patient_id, appointment.slot_id) == (patient_id, slot_id)
    assert result.ids == {"slot_id": slot_id}
    assert result.position == app.head_position()
    assert result.replayed is False
    assert slot_of(app, slot_id).free_seats(T0) == 0
    agenda = app.load(PatientAgenda, PatientAgenda.create_id(patient_id, TEN.date()), "agenda")
    assert result.id in agenda.entries


def test_booking_a_full_slot_is_rejected(app: Scheduling, patient_id: UUID, slot_id: UUID) -> None:
    book(app, patient_id, slot_id)
    with pytest.raises(SlotFullError):
        book(app, register_patient(app), slot_id)


def test_a_patient_cannot_book_two_overlapping_appointments(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    other_slot = create_slot(app, register_provider(app), TEN + timedelta(minutes=15))
    book(app, patient_id, slot_id)
    head = app.head_position()

    with pytest.raises(AppointmentOverlapError):
        book(app, patient_id, other_slot)

    assert app.head_position() == head
    assert slot_of(app, other_slot).free_seats(T0) == 1


def test_a_slot_refuses_an_appointment_type_it_does_not_offer(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    with pytest.raises(SlotUnavailableError):
        book(app, patient_id, slot_id, appointment_type="video")


def test_booking_needs_either_a_slot_or_a_hold(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    with pytest.raises(ValidationError):
        app.book(BookAppointment(), as_(patient(patient_id)))
    both = BookAppointment(slot_id=slot_id, appointment_id=uuid4())
    with pytest.raises(ValidationError):
        app.book(both, as_(patient(patient_id)))


def test_booking_for_an_unregistered_patient_is_not_found(app: Scheduling, slot_id: UUID) -> None:
    with pytest.raises(NotFoundError):
        book(app, uuid4(), slot_id)


def test_a_patient_cannot_book_a_slot_that_has_started_but_staff_can(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    clock.set(TEN + timedelta(minutes=5))
    with pytest.raises(BookingWindowError):
        book(app, patient_id, slot_id)
    staff_booking = BookAppointment(slot_id=slot_id, patient_id=patient_id)
    app.book(staff_booking, as_(STAFF))


def test_a_hold_counts_until_it_expires_and_then_frees_the_seat_without_a_sweeper(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = hold(app, patient_id, slot_id)
    assert appointment_of(app, held).status is Status.HELD
    other = register_patient(app)
    with pytest.raises(SlotFullError):
        book(app, other, slot_id)

    clock.advance(app.policies.hold)

    book(app, other, slot_id)
    assert appointment_of(app, held).status is Status.HELD  # nobody swept it


def test_a_hold_lasts_the_policy_length_unless_the_command_asks_for_another(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    default = hold(app, patient_id, slot_id)
    later_slot = create_slot(app, provider_id, TEN + HALF_HOUR)
    short = hold(app, patient_id, later_slot, hold_minutes=3)

    assert appointment_of(app, default).hold_expires_at == T0 + app.policies.hold
    assert appointment_of(app, short).hold_expires_at == T0 + timedelta(minutes=3)
    assert slot_of(app, later_slot).allocations[short].expires_at == T0 + timedelta(minutes=3)


@pytest.mark.parametrize("minutes", [0, -5, 61])
def test_a_hold_length_outside_one_to_sixty_minutes_is_rejected(
    app: Scheduling, patient_id: UUID, slot_id: UUID, minutes: int
) -> None:
    with pytest.raises(ValidationError):
        hold(app, patient_id, slot_id, hold_minutes=minutes)


def test_booking_a_live_hold_converts_it_into_a_booking(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = hold(app, patient_id, slot_id)
    clock.advance(minutes=9)

    result = app.book(BookAppointment(appointment_id=held), as_(patient(patient_id)))

    assert result.id == held
    assert appointment_of(app, held).status is Status.BOOKED
    assert slot_of(app, slot_id).allocations[held].expires_at is None
    agenda = app.load(PatientAgenda, PatientAgenda.create_id(patient_id, TEN.date()), "agenda")
    assert agenda.entries[held].hold_expires_at is None
    clock.advance(hours=1)
    with pytest.raises(SlotFullError):
        book(app, register_patient(app), slot_id)


def test_booking_an_expired_hold_is_rejected(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = hold(app, patient_id, slot_id)
    clock.advance(app.policies.hold)
    with pytest.raises(HoldExpiredError):
        app.book(BookAppointment(appointment_id=held), as_(patient(patient_id)))


def test_expiring_a_hold_releases_its_seat_once_it_has_run_out(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    held = hold(app, patient_id, slot_id)
    with pytest.raises(TooEarlyError):
        app.expire_hold(ExpireHold(appointment_id=held), as_(SYSTEM))

    clock.advance(app.policies.hold)
    app.expire_hold(ExpireHold(appointment_id=held), as_(SYSTEM))

    assert appointment_of(app, held).status is Status.CANCELLED
    assert slot_of(app, slot_id).allocations == {}


# --- lifecycle --------------------------------------------------------------------------------


def test_an_appointment_goes_from_booking_to_completion(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    me = as_(patient(patient_id))
    doctor = as_(provider(provider_id))
    appointment_id = book(app, patient_id, slot_id)

    app.confirm(ConfirmAppointment(appointment_id=appointment_id), me)
    assert appointment_of(app, appointment_id).status is Status.CONFIRMED
    clock.set(TEN - timedelta(minutes=10))
    app.check_in(CheckIn(appointment_id=appointment_id), me)
    assert appointment_of(app, appointment_id).status is Status.CHECKED_IN
    clock.set(TEN + timedelta(minutes=2))
    app.start(StartAppointment(appointment_id=appointment_id), doctor)
    assert appointment_of(app, appointment_id).status is Status.IN_PROGRESS
    clock.set(TEN + timedelta(minutes=25))
    complete = CompleteAppointment(appointment_id=appointment_id, notes="rest", vitals={"t": 37})
    app.complete(complete, doctor)

    appointment = appointment_of(app, appointment_id)
    assert appointment.status is Status.COMPLETED
    assert appointment.checked_in_at == TEN - timedelta(minutes=10)
    assert appointment.completed_at == TEN + timedelta(minutes=25)


@pytest.mark.parametrize(
    ("at", "error"),
    [(TEN - timedelta(minutes=31), TooEarlyError), (TEN + timedelta(minutes=16), TooLateError)],
    ids=["too-early", "too-late"],
)
def test_checking_in_outside_the_window_is_rejected(
    app: Scheduling,
    clock: FixedClock,
    patient_id: UUID,
    slot_id: UUID,
    at: datetime,
    error: type[Exception],
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    clock.set(at)
    with pytest.raises(error):
        app.check_in(CheckIn(appointment_id=appointment_id), as_(patient(patient_id)))


def test_checking_in_twice_is_rejected(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    clock.set(TEN)
    app.check_in(CheckIn(appointment_id=appointment_id), as_(STAFF))
    with pytest.raises(ConflictError):
        app.check_in(CheckIn(appointment_id=appointment_id), as_(STAFF))


def test_cancelling_gives_the_seat_back(app: Scheduling, patient_id: UUID, slot_id: UUID) -> None:
    appointment_id = book(app, patient_id, slot_id)
    cancel = CancelAppointment(appointment_id=appointment_id, reason="better")

    app.cancel(cancel, as_(patient(patient_id)))

    assert appointment_of(app, appointment_id).status is Status.CANCELLED
    book(app, register_patient(app), slot_id)


def test_a_late_cancellation_by_staff_records_the_fee(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    head = app.head_position()
    cancel = CancelAppointment(
        appointment_id=appointment_id, reason="sick", fee=Decimal("20"), currency="EUR"
    )

    app.cancel(cancel, as_(STAFF))

    [cancelled] = [e for e in all_events(app, after=head) if isinstance(e, Appointment.Cancelled)]
    assert (cancelled.late, cancelled.fee, cancelled.currency) == (True, Decimal("20"), "EUR")


def test_only_staff_may_charge_a_cancellation_fee_and_it_needs_a_currency(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    with_fee = CancelAppointment(appointment_id=appointment_id, reason="x", fee=Decimal("5"))
    with pytest.raises(ForbiddenError):
        app.cancel(with_fee, as_(patient(patient_id)))
    with pytest.raises(ValidationError):
        app.cancel(with_fee, as_(STAFF))
    assert appointment_of(app, appointment_id).status is Status.BOOKED


@pytest.mark.parametrize(
    ("fee", "currency"), [(Decimal("-1"), "EUR"), (Decimal("5"), "eur"), (Decimal("5"), "EURO")]
)
def test_a_cancellation_fee_must_be_a_non_negative_amount_in_an_iso_currency(
    app: Scheduling, patient_id: UUID, slot_id: UUID, fee: Decimal, currency: str
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    cancel = CancelAppointment(
        appointment_id=appointment_id, reason="x", fee=fee, currency=currency
    )
    with pytest.raises(ValidationError):
        app.cancel(cancel, as_(STAFF))


def test_cancelling_twice_does_not_release_the_seat_again(
    app: Scheduling, patient_id: UUID, provider_id: UUID
) -> None:
    slot_id = create_slot(app, provider_id, capacity=2)
    appointment_id = book(app, patient_id, slot_id)
    cancel = CancelAppointment(appointment_id=appointment_id, reason="x")
    app.cancel(cancel, as_(STAFF))
    book(app, register_patient(app), slot_id)
    with pytest.raises(ConflictError):
        app.cancel(cancel, as_(STAFF))
    assert slot_of(app, slot_id).live_seats(T0) == 1


# --- rescheduling -----------------------------------------------------------------------------


def test_rescheduling_takes_the_new_seat_and_releases_the_old_one_in_one_save(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    head = app.head_position()
    ctx = as_(patient(patient_id))

    result = app.reschedule(
        RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot), ctx
    )

    assert result.id == appointment_id
    assert result.ids == {"slot_id": new_slot}
    recorded = all_events(app, after=head)
    assert {e.meta.correlation_id for e in recorded} == {ctx.correlation_id}
    assert result.position == app.head_position() == head + len(recorded)
    taken = [e for e in recorded if isinstance(e, Slot.SeatTaken)]
    released = [e for e in recorded if isinstance(e, Slot.SeatReleased)]
    assert [(e.originator_id, e.appointment_id) for e in taken] == [(new_slot, appointment_id)]
    assert [(e.originator_id, e.appointment_id) for e in released] == [(slot_id, appointment_id)]
    assert any(isinstance(e, Appointment.Rescheduled) for e in recorded)
    moved = appointment_of(app, appointment_id)
    assert (moved.slot_id, moved.start) == (new_slot, TEN + timedelta(hours=2))


def test_the_old_slot_gets_its_seat_back_after_a_reschedule(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot)
    app.reschedule(move, as_(STAFF))

    assert slot_of(app, slot_id).free_seats(T0) == 1
    book(app, register_patient(app), slot_id)
    # The patient's agenda moved too: the old time is free for them elsewhere.
    book(app, patient_id, create_slot(app, register_provider(app), TEN))


def test_rescheduling_into_a_full_slot_fails_and_leaves_the_old_booking_intact(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    full_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    book(app, register_patient(app), full_slot)
    head = app.head_position()

    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=full_slot)
    with pytest.raises(SlotFullError):
        app.reschedule(move, as_(patient(patient_id)))

    assert app.head_position() == head
    appointment = appointment_of(app, appointment_id)
    assert (appointment.slot_id, appointment.status) == (slot_id, Status.BOOKED)
    assert appointment_id in slot_of(app, slot_id).allocations


def test_rescheduling_to_another_providers_slot_is_rejected(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    elsewhere = create_slot(app, register_provider(app), TEN + timedelta(hours=2))
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=elsewhere)
    for actor in (patient(patient_id), STAFF):
        with pytest.raises(ValidationError):
            app.reschedule(move, as_(actor))


# --- no-show ----------------------------------------------------------------------------------


def test_staff_revert_a_no_show_recorded_after_the_grace_period(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    app.confirm(ConfirmAppointment(appointment_id=appointment_id), as_(patient(patient_id)))
    clock.set(TEN + timedelta(minutes=14))
    with pytest.raises(TooEarlyError):
        app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(provider(provider_id)))

    clock.set(TEN + timedelta(minutes=15))
    app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(provider(provider_id)))
    assert appointment_of(app, appointment_id).status is Status.NO_SHOW

    revert = RevertNoShow(appointment_id=appointment_id, reason="was in the waiting room")
    app.revert_no_show(revert, as_(STAFF))
    assert appointment_of(app, appointment_id).status is Status.CONFIRMED


# --- authorization ----------------------------------------------------------------------------


def test_a_patient_cannot_book_for_another_patient(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    other = register_patient(app)
    with pytest.raises(ForbiddenError):
        app.book(BookAppointment(slot_id=slot_id, patient_id=other), as_(patient(patient_id)))
    with pytest.raises(ForbiddenError):
        app.hold(
            HoldAppointment(slot_id=slot_id, appointment_type="in_person", patient_id=other),
            as_(patient(patient_id)),
        )


def test_staff_must_name_the_patient_they_book_for(app: Scheduling, slot_id: UUID) -> None:
    with pytest.raises(ForbiddenError):
        app.book(BookAppointment(slot_id=slot_id), as_(STAFF))


def test_a_patient_cannot_see_or_act_on_another_patients_appointment(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    held = hold(app, patient_id, create_slot(app, provider_id, TEN + timedelta(hours=1)))
    new_slot = create_slot(app, provider_id, TEN + timedelta(hours=2))
    stranger = as_(patient(register_patient(app)))
    attempts = [
        lambda: app.confirm(ConfirmAppointment(appointment_id=appointment_id), stranger),
        lambda: app.check_in(CheckIn(appointment_id=appointment_id), stranger),
        lambda: app.cancel(CancelAppointment(appointment_id=appointment_id, reason="x"), stranger),
        lambda: app.reschedule(
            RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot), stranger
        ),
        lambda: app.book(BookAppointment(appointment_id=held), stranger),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError):
            attempt()
    assert appointment_of(app, appointment_id).status is Status.BOOKED


def test_a_provider_cannot_act_on_another_providers_appointment(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    stranger = as_(provider(uuid4()))
    with pytest.raises(NotFoundError):
        app.mark_no_show(MarkNoShow(appointment_id=appointment_id), stranger)
    with pytest.raises(NotFoundError):
        app.start(StartAppointment(appointment_id=appointment_id), stranger)


def test_an_unknown_appointment_is_not_found(app: Scheduling) -> None:
    with pytest.raises(NotFoundError):
        app.confirm(ConfirmAppointment(appointment_id=uuid4()), as_(STAFF))


def test_only_staff_may_overbook(app: Scheduling, provider_id: UUID, patient_id: UUID) -> None:
    slot_id = create_slot(app, provider_id, overbook_allowance=1)
    book(app, register_patient(app), slot_id)
    for actor in (patient(patient_id), provider(provider_id)):
        command = BookAppointment(slot_id=slot_id, patient_id=patient_id, overbook=True)
        with pytest.raises(ForbiddenError):
            app.book(command, as_(actor))

    command = BookAppointment(slot_id=slot_id, patient_id=patient_id, overbook=True)
    appointment_id = app.book(command, as_(STAFF)).id

    assert appointment_of(app, appointment_id).overbooked is True
    with pytest.raises(SlotFullError):
        app.book(
            BookAppointment(slot_id=slot_id, patient_id=register_patient(app), overbook=True),
            as_(STAFF),
        )


def test_only_staff_may_revert_a_no_show(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(STAFF))
    revert = RevertNoShow(appointment_id=appointment_id, reason="mistake")
    for actor in (patient(patient_id), provider(provider_id)):
        with pytest.raises(ForbiddenError):
            app.revert_no_show(revert, as_(actor))
    assert appointment_of(app, appointment_id).status is Status.NO_SHOW


def test_a_patient_cannot_mark_their_own_no_show(
    app: Scheduling, clock: FixedClock, patient_id: UUID, slot_id: UUID
) -> None:
    appointment_id = book(app, patient_id, slot_id)
    clock.set(TEN + timedelta(minutes=20))
    with pytest.raises(ForbiddenError):
        app.mark_no_show(MarkNoShow(appointment_id=appointment_id), as_(patient(patient_id)))


# --- idempotency ------------------------------------------------------------------------------


def test_repeating_a_command_with_the_same_key_replays_the_first_result(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id), key="booking-1")
    first = app.book(BookAppointment(slot_id=slot_id), ctx)
    head = app.head_position()

    again = app.book(BookAppointment(slot_id=slot_id), ctx)

    assert again.replayed is True
    assert (again.id, again.ids) == (first.id, first.ids)
    assert app.head_position() == head
    assert again.position >= first.position


def test_reusing_a_key_with_a_different_request_is_rejected(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id), key="booking-1")
    app.book(BookAppointment(slot_id=slot_id), ctx)
    other_slot = create_slot(app, provider_id, TEN + timedelta(hours=1))
    with pytest.raises(IdempotencyKeyReusedError):
        app.book(BookAppointment(slot_id=other_slot), ctx)
    with pytest.raises(IdempotencyKeyReusedError):
        app.hold(HoldAppointment(slot_id=slot_id, appointment_type="in_person"), ctx)


def test_different_actors_with_the_same_key_are_independent(
    app: Scheduling, provider_id: UUID, patient_id: UUID
) -> None:
    slot_id = create_slot(app, provider_id, capacity=2)
    other = register_patient(app)

    mine = app.book(BookAppointment(slot_id=slot_id), as_(patient(patient_id), key="k"))
    theirs = app.book(BookAppointment(slot_id=slot_id), as_(patient(other), key="k"))

    assert theirs.replayed is False
    assert theirs.id != mine.id
    assert appointment_of(app, theirs.id).patient_id == other


def test_a_failed_command_does_not_use_up_its_key(
    app: Scheduling, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id), key="k")
    block(app, provider_id, TEN, TEN + HALF_HOUR)
    with pytest.raises(SlotUnavailableError):
        app.book(BookAppointment(slot_id=slot_id), ctx)
    app.unblock_window(
        UnblockWindow(provider_id=provider_id, start=TEN, end=TEN + HALF_HOUR), as_(STAFF)
    )

    result = app.book(BookAppointment(slot_id=slot_id), ctx)

    assert result.replayed is False
    assert appointment_of(app, result.id).status is Status.BOOKED


# --- audit metadata ---------------------------------------------------------------------------


def test_every_event_in_the_log_carries_who_which_command_which_request_and_when(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, slot_id: UUID
) -> None:
    correlation, causation = uuid4(), uuid4()
    ctx = CommandContext(
        patient(patient_id), correlation_id=correlation, causation_id=causation, idempotency_key="k"
    )
    head = app.head_position()
    booked = app.book(BookAppointment(slot_id=slot_id), ctx)
    booking_events = all_events(app, after=head)
    app.cancel(CancelAppointment(appointment_id=booked.id, reason="x"), as_(STAFF))
    app.generate_slots(mornings(provider_id), as_(provider(provider_id)))

    events = all_events(app)

    assert len(events) == app.head_position()
    for event in events:
        meta = event.meta
        assert isinstance(meta, EventMeta), type(event).__qualname__
        assert isinstance(meta.actor_id, UUID)
        assert Role(meta.actor_role)
        assert isinstance(meta.correlation_id, UUID)
        assert isinstance(meta.causation_id, UUID)
        assert meta.command
        assert event.timestamp.tzinfo is not None
        assert event.timestamp.utcoffset() == timedelta(0)
    kinds = {type(e).__qualname__ for e in booking_events}
    assert {"Slot.SeatTaken", "Appointment.Scheduled", "PatientAgenda.Opened"} <= kinds
    assert "IdempotencyRecord.Recorded" in kinds
    for event in booking_events:
        assert event.meta == EventMeta(
            actor_id=patient_id,
            actor_role="patient",
            correlation_id=correlation,
            causation_id=causation,
            command="BookAppointment",
        )


def test_a_request_without_a_parent_is_its_own_cause(
    app: Scheduling, patient_id: UUID, slot_id: UUID
) -> None:
    ctx = as_(patient(patient_id))
    head = app.head_position()
    book(app, patient_id, slot_id)
    app.book(
        BookAppointment(slot_id=create_slot(app, register_provider(app), TEN + HALF_HOUR)), ctx
    )
    last = all_events(app, after=head)[-1]
    assert last.meta.causation_id == last.meta.correlation_id == ctx.correlation_id


def test_a_patient_token_carrying_a_providers_id_cannot_edit_that_provider(
    app: Scheduling,
) -> None:
    provider_id = register_provider(app)
    impostor = CommandContext(Actor(provider_id, Role.PATIENT))
    with pytest.raises(ForbiddenError):
        app.update_provider(
            UpdateProvider(provider_id=provider_id, profile=ProviderProfile(name="Mallory")),
            impostor,
        )
    assert app.load(Provider, provider_id, "provider").profile["name"] == "Dr Adams"


def test_registering_a_patient_under_an_id_another_aggregate_uses_is_a_conflict(
    app: Scheduling,
) -> None:
    provider_id = register_provider(app)
    details = PatientDetails(name="Pat Doe", time_zone="Europe/Berlin")
    with pytest.raises(ConflictError, match="already in use"):
        app.register_patient(RegisterPatient(patient_id=provider_id, details=details), as_(STAFF))
