"""Property: whatever a command carries (any text, numbers incl. NaN and infinities, instants
across Python's whole range, any zone name), it is either refused with a domain error and
stores nothing, or every event it stores is projectable: the scheduling and analytics rows and
the search documents it yields fit the read models (tests/validation_strategies.py)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CompleteAppointment,
    MarkNoShow,
    RescheduleAppointment,
    RevertNoShow,
)
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    UpdatePatient,
    UpdateProvider,
)
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    WorkingSession,
)
from tests.validation_strategies import (
    ANY_CURRENCY,
    ANY_DAY,
    ANY_DECIMAL,
    ANY_INSTANT,
    ANY_INTEGER,
    ANY_LENGTH,
    ANY_TEXT,
    ANY_TEXTS,
    ANY_VITALS,
    CURRENCY,
    DAY,
    LENGTH,
    MONEY,
    PLAIN,
    PLAINS,
    PROSE,
    SLOT_START,
    SOON,
    STAFF,
    VITALS,
    World,
    arguments,
    details,
    partial_details,
    partial_profiles,
    profiles,
)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REASON = {"reason": PROSE}
ANY_REASON = {"reason": ANY_TEXT}


@PROPERTY
@given(profile=profiles(), changes=partial_profiles())
def test_any_provider_profile_is_refused_or_projectable(
    profile: ProviderProfile, changes: ProviderProfile
) -> None:
    world = World()
    world.attempt(world.app.register_provider, lambda: RegisterProvider(profile=profile))
    provider_id = world.provider()
    update = lambda: UpdateProvider(provider_id=provider_id, profile=changes)  # noqa: E731
    world.attempt(world.app.update_provider, update)


@PROPERTY
@given(registration=details(), changes=partial_details())
def test_any_patient_details_are_refused_or_projectable(
    registration: PatientDetails, changes: PatientDetails
) -> None:
    world = World()
    world.attempt(world.app.register_patient, lambda: RegisterPatient(details=registration))
    patient_id = world.patient()
    update = lambda: UpdatePatient(patient_id=patient_id, details=changes)  # noqa: E731
    world.attempt(world.app.update_patient, update)


SLOT = {
    "start": SOON,
    "length": LENGTH,
    "capacity": st.integers(1, 500),
    "overbook_allowance": st.integers(0, 50),
    "appointment_types": st.just(["in_person", "video"]),
    "location": st.none() | PLAIN,
    "room": st.none() | PLAIN,
}
ANY_SLOT = {
    "start": ANY_INSTANT,
    "length": ANY_LENGTH,
    "end": ANY_INSTANT,
    "capacity": ANY_INTEGER,
    "overbook_allowance": ANY_INTEGER,
    "appointment_types": ANY_TEXTS,
    "location": ANY_TEXT,
    "room": ANY_TEXT,
}


@PROPERTY
@given(args=arguments(SLOT, ANY_SLOT))
def test_any_slot_is_refused_or_projectable(args: dict[str, Any]) -> None:
    world = World()
    provider_id = world.provider()
    length = args.pop("length")
    if "end" not in args:
        try:
            args["end"] = args["start"] + length
        except OverflowError:  # the test's own arithmetic, not the domain's
            args["end"] = args["start"]
    world.attempt(world.app.create_slot, lambda: CreateSlot(provider_id=provider_id, **args))


GENERATION = {
    "first_day": DAY,
    "days": st.integers(0, 30),
    "slot_minutes": st.sampled_from([5, 30, 180]),
    "excluded_dates": st.lists(DAY, max_size=3),
    "location": st.none() | PLAIN,
}
ANY_GENERATION = {
    "first_day": ANY_DAY,
    "days": st.integers(-3, 400),
    "slot_minutes": st.sampled_from([480, 1440, 1441, 0, -5]),
    "excluded_dates": st.lists(ANY_DAY, max_size=3),
    "location": ANY_TEXT,
}


@PROPERTY
@given(args=arguments(GENERATION, ANY_GENERATION))
def test_any_slot_generation_is_refused_or_projectable(args: dict[str, Any]) -> None:
    world = World()
    provider_id = world.provider()
    days, minutes = args.pop("days"), args.pop("slot_minutes")
    try:
        args["last_day"] = args["first_day"] + timedelta(days=days)
    except OverflowError:
        args["last_day"] = args["first_day"]
    session = WorkingSession(weekday=2, start=time(9), end=time(12), slot_minutes=minutes)
    world.attempt(
        world.app.generate_slots,
        lambda: GenerateSlots(provider_id=provider_id, sessions=[session], **args),
    )


WINDOW = {"start": st.just(SLOT_START - timedelta(hours=1)), "length": LENGTH, **REASON}
ANY_WINDOW = {"start": ANY_INSTANT, "length": ANY_LENGTH, **ANY_REASON}


@PROPERTY
@given(args=arguments(WINDOW, ANY_WINDOW))
def test_any_block_window_is_refused_or_projectable(args: dict[str, Any]) -> None:
    world = World()
    provider_id = world.provider()
    world.slot(provider_id)
    try:
        args["end"] = args["start"] + args.pop("length")
    except OverflowError:
        args["end"] = args["start"]
    world.attempt(world.app.block_window, lambda: BlockWindow(provider_id=provider_id, **args))


@PROPERTY
@given(args=arguments({**REASON, "symptoms": PLAINS}, {**ANY_REASON, "symptoms": ANY_TEXTS}))
def test_any_booking_reason_and_symptoms_are_refused_or_projectable(args: dict[str, Any]) -> None:
    world = World()
    slot_id, patient_id = world.slot(world.provider()), world.patient()
    world.attempt(
        world.app.book, lambda: BookAppointment(slot_id=slot_id, patient_id=patient_id, **args)
    )


COMPLETION = {"notes": PROSE, "private_notes": PROSE, "vitals": VITALS}
ANY_COMPLETION = {"notes": ANY_TEXT, "private_notes": ANY_TEXT, "vitals": ANY_VITALS}


@PROPERTY
@given(args=arguments(COMPLETION, ANY_COMPLETION))
def test_any_completion_is_refused_or_projectable(args: dict[str, Any]) -> None:
    world = World()
    appointment_id = world.in_progress()
    world.attempt(
        world.app.complete, lambda: CompleteAppointment(appointment_id=appointment_id, **args)
    )


CANCELLATION = {**REASON, "fee": st.none() | MONEY, "currency": CURRENCY}
ANY_CANCELLATION = {**ANY_REASON, "fee": ANY_DECIMAL, "currency": ANY_CURRENCY}


@PROPERTY
@given(args=arguments(CANCELLATION, ANY_CANCELLATION), late=st.booleans())
def test_any_cancellation_is_refused_or_projectable(args: dict[str, Any], late: bool) -> None:
    world = World()
    appointment_id = world.booked()
    if late:
        world.clock.set(SLOT_START - timedelta(hours=1))
    world.attempt(
        world.app.cancel, lambda: CancelAppointment(appointment_id=appointment_id, **args)
    )


@PROPERTY
@given(reason=st.one_of(PROSE, ANY_TEXT))
def test_any_reason_to_reschedule_revert_or_cancel_a_slot_is_refused_or_projectable(
    reason: str,
) -> None:
    world = World()
    appointment_id = world.booked()
    provider_id: UUID = world.app.repository.get(appointment_id).provider_id
    later = SLOT_START + timedelta(hours=1)
    other = world.app.create_slot(
        CreateSlot(provider_id=provider_id, start=later, end=later + timedelta(minutes=30)), STAFF
    ).id
    world.attempt(
        world.app.reschedule,
        lambda: RescheduleAppointment(
            appointment_id=appointment_id, new_slot_id=other, reason=reason
        ),
    )
    spare = world.slot(world.provider())
    world.attempt(world.app.cancel_slot, lambda: CancelSlot(slot_id=spare, reason=reason))
    missed = world.booked()
    world.clock.set(SLOT_START + timedelta(hours=1))
    world.app.mark_no_show(MarkNoShow(appointment_id=missed), STAFF)
    world.attempt(
        world.app.revert_no_show, lambda: RevertNoShow(appointment_id=missed, reason=reason)
    )
