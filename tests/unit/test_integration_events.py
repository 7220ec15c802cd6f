"""Integration events: every domain event survives the trip through its published form, the
published documents are current, and keys and headers carry no PHI."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CheckIn,
    CompleteAppointment,
    ConfirmAppointment,
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
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    UnblockWindow,
    WorkingSession,
)
from domain.actor import Actor, Role
from projections.integration import (
    INTERNAL_TOPIC,
    Catalog,
    IntegrationEvent,
    documents,
    message_headers,
    message_key,
)
from tests.builders import in_memory_app
from tests.fakes import FixedClock

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
PATIENT_NAME = "Zelda Quixote-Phiinfo"
PATIENT_PHONE = "+4930123456789"


def run_scenario() -> tuple[Scheduling, list[tuple[int, Any]]]:
    """Drive (nearly) every command once; return the app and its whole log."""
    clock = FixedClock(START - timedelta(days=1))
    app = in_memory_app(clock)
    staff = CommandContext(Actor(uuid4(), Role.STAFF), idempotency_key="k-1")
    plain = CommandContext(Actor(uuid4(), Role.STAFF))
    provider = app.register_provider(
        RegisterProvider(profile=ProviderProfile(name="Dr P", time_zone="Europe/Berlin")), staff
    ).id
    app.update_provider(
        UpdateProvider(provider_id=provider, profile=ProviderProfile(bio="Cardiology")), plain
    )
    patient_id = uuid4()
    me = CommandContext(Actor(patient_id, Role.PATIENT))
    details = PatientDetails(
        name=PATIENT_NAME,
        time_zone="Europe/Berlin",
        phone=PATIENT_PHONE,
        birth_date=date(1990, 1, 2),
    )
    app.register_patient(RegisterPatient(details=details), me)
    app.update_patient(
        UpdatePatient(patient_id=patient_id, details=PatientDetails(postal_code="10115")), me
    )
    first = app.create_slot(
        CreateSlot(provider_id=provider, start=START, end=START + timedelta(minutes=30)), plain
    ).id
    second = app.create_slot(
        CreateSlot(
            provider_id=provider,
            start=START + timedelta(hours=2),
            end=START + timedelta(hours=2, minutes=30),
        ),
        plain,
    ).id
    app.generate_slots(
        GenerateSlots(
            provider_id=provider,
            first_day=date(2030, 3, 5),
            last_day=date(2030, 3, 5),
            sessions=[WorkingSession(weekday=2, start=time(9), end=time(10), slot_minutes=30)],
        ),
        plain,
    )
    window = BlockWindow(
        provider_id=provider,
        start=START + timedelta(days=1),
        end=START + timedelta(days=2),
        reason="training",
    )
    app.block_window(window, plain)
    app.unblock_window(
        UnblockWindow(provider_id=provider, start=window.start, end=window.end), plain
    )
    held = app.hold(HoldAppointment(slot_id=first, appointment_type="in_person"), me).id
    app.book(BookAppointment(appointment_id=held), me)
    app.confirm(ConfirmAppointment(appointment_id=held), me)
    app.reschedule(RescheduleAppointment(appointment_id=held, new_slot_id=second), me)
    clock.set(START + timedelta(hours=2))
    app.check_in(CheckIn(appointment_id=held), me)
    app.start(StartAppointment(appointment_id=held), plain)
    app.complete(CompleteAppointment(appointment_id=held, notes="ok"), plain)
    third = app.create_slot(
        CreateSlot(
            provider_id=provider,
            start=START + timedelta(hours=5),
            end=START + timedelta(hours=5, minutes=30),
        ),
        plain,
    ).id
    other = app.book(BookAppointment(slot_id=third, patient_id=patient_id), plain).id
    clock.set(START + timedelta(hours=6))
    app.mark_no_show(MarkNoShow(appointment_id=other), plain)
    app.revert_no_show(RevertNoShow(appointment_id=other, reason="was there"), plain)
    app.cancel(CancelAppointment(appointment_id=other, reason="done"), plain)
    app.cancel_slot(CancelSlot(slot_id=third, reason="closed"), plain)
    log = [
        (n.id, app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(start=1, limit=10_000)
    ]
    return app, log


@pytest.fixture(scope="module")
def log() -> list[tuple[int, Any]]:
    return run_scenario()[1]


def test_every_event_comes_back_equal_after_its_trip_through_json(
    log: list[tuple[int, Any]],
) -> None:
    catalog = Catalog()
    seen = set()
    for position, event in log:
        message = catalog.encode(event, position)
        wire = msgspec.json.encode(message)
        back = catalog.decode(msgspec.json.decode(wire, type=IntegrationEvent))
        if type(event).__qualname__ in catalog.classes:
            assert back == event, type(event).__qualname__
            seen.add(type(event).__qualname__)
        else:
            assert back is None
            assert catalog.topic_for(message.event_type) == INTERNAL_TOPIC
            assert message.data == {}
    assert len(seen) >= 25, sorted(set(catalog.classes) - seen)


def test_messages_conform_to_their_published_schema_types(log: list[tuple[int, Any]]) -> None:
    catalog = Catalog()
    for position, event in log:
        message = catalog.encode(event, position)
        payload = catalog.payloads.get(message.event_type)
        if payload is not None:
            msgspec.convert(message.data, payload, strict=False)
        assert message.position == position
        assert message.schema_version == 1


def test_keys_and_headers_carry_no_phi(log: list[tuple[int, Any]]) -> None:
    catalog = Catalog()
    for position, event in log:
        message = catalog.encode(event, position)
        exposed = message_key(message) + b"".join(
            str(v).encode() for _, v in message_headers(message)
        )
        assert PATIENT_NAME.encode() not in exposed
        assert PATIENT_PHONE.encode() not in exposed
        assert b"1990-01-02" not in exposed
        assert message_key(message) == str(event.originator_id).encode()


def test_the_published_event_documents_are_current() -> None:
    stale = [
        relative
        for relative, content in documents(Catalog()).items()
        if (ROOT / "docs" / relative).read_bytes() != content + b"\n"
    ]
    assert not stale, f"run `slotwise events export`; stale: {stale}"
