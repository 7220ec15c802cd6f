from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from commands.appointments.messages import (
    BookAppointment,
    CancelAppointment,
    CompleteAppointment,
    HoldAppointment,
    RevertNoShow,
)
from commands.directory.messages import RegisterPatient, RegisterProvider, given_fields
from commands.idempotency import fingerprint
from commands.slots.messages import BlockWindow, CreateSlot, GenerateSlots, WorkingSession
from commands.structs import Command, encode

pytestmark = pytest.mark.unit

ID = str(uuid4())
START = "2026-11-23T10:00:00+00:00"
END = "2026-11-23T10:30:00+00:00"
SESSION: dict[str, Any] = {"weekday": 2, "start": "09:00:00", "end": "12:00:00", "slot_minutes": 30}


def decode(cls: type[Any], body: dict[str, Any]) -> Any:
    return msgspec.json.decode(json.dumps(body).encode(), type=cls, strict=True)


def slot(**changes: Any) -> dict[str, Any]:
    return {"provider_id": ID, "start": START, "end": END, **changes}


def generation(**changes: Any) -> dict[str, Any]:
    return {
        "provider_id": ID,
        "first_day": "2026-11-24",
        "last_day": "2026-11-30",
        "sessions": [SESSION],
        **changes,
    }


def test_a_command_is_named_after_its_class() -> None:
    assert BookAppointment.name() == "BookAppointment"
    assert issubclass(CreateSlot, Command)


def test_a_minimal_booking_gets_its_defaults() -> None:
    command = decode(BookAppointment, {"slot_id": ID})
    assert command.appointment_type == "in_person"
    assert (command.patient_id, command.appointment_id, command.overbook) == (None, None, False)
    assert command.symptoms == []


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (BookAppointment, {"slot_id": ID, "status": "booked"}),
        (CreateSlot, slot(seats=2)),
        (CancelAppointment, {"appointment_id": ID, "reason": "x", "refund": True}),
        (GenerateSlots, generation(sessions=[{**SESSION, "lunch": True}])),
        (RegisterProvider, {"profile": {"name": "Dr A", "time_zone": "UTC", "salary": 1}}),
        (RegisterPatient, {"details": {"name": "P", "time_zone": "UTC", "ssn": "123"}}),
    ],
    ids=["book", "slot", "cancel", "nested-session", "nested-profile", "nested-details"],
)
def test_unknown_fields_are_rejected(cls: type[Any], body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        decode(cls, body)


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (CreateSlot, slot(start="2026-11-23T10:00:00")),
        (CreateSlot, slot(end="2026-11-23T10:30:00")),
        (BlockWindow, {**slot(start="2026-11-23T10:00:00"), "reason": "x"}),
    ],
    ids=["slot-start", "slot-end", "block-start"],
)
def test_naive_datetimes_are_rejected(cls: type[Any], body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(cls, body)


def test_aware_datetimes_with_any_offset_are_accepted() -> None:
    command = decode(CreateSlot, slot(start="2026-11-23T11:00:00+01:00"))
    assert command.start.utcoffset() is not None


@pytest.mark.parametrize(
    "body",
    [slot(capacity="2"), slot(capacity=2.0), slot(capacity=True), {**slot(), "start": 1}],
    ids=["string", "float", "bool", "number-for-datetime"],
)
def test_values_are_not_coerced_to_another_type(body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(CreateSlot, body)


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("capacity", 0, False),
        ("capacity", 1, True),
        ("capacity", 500, True),
        ("capacity", 501, False),
        ("overbook_allowance", -1, False),
        ("overbook_allowance", 0, True),
        ("overbook_allowance", 50, True),
        ("overbook_allowance", 51, False),
        ("appointment_types", [], False),
        ("appointment_types", ["in_person", "video", "phone"], True),
        ("appointment_types", ["in_person", "video", "phone", "video"], False),
        ("appointment_types", ["house_call"], False),
    ],
)
def test_slot_terms_are_bounded(field: str, value: Any, valid: bool) -> None:
    body = slot(**{field: value})
    if valid:
        assert getattr(decode(CreateSlot, body), field) == value
    else:
        with pytest.raises(msgspec.ValidationError, match=field):
            decode(CreateSlot, body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weekday", 0),
        ("weekday", 8),
        ("slot_minutes", 4),
        ("slot_minutes", 481),
        ("buffer_minutes", -1),
        ("buffer_minutes", 241),
        ("start", "25:00:00"),
    ],
)
def test_working_session_values_are_bounded(field: str, value: Any) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(WorkingSession, {**SESSION, field: value})


def test_working_session_bounds_are_inclusive() -> None:
    for weekday, minutes, buffer in ((1, 5, 0), (7, 480, 240)):
        body = {**SESSION, "weekday": weekday, "slot_minutes": minutes, "buffer_minutes": buffer}
        assert decode(WorkingSession, body).slot_minutes == minutes


def test_generating_needs_at_least_one_session_and_at_most_a_hundred() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(GenerateSlots, generation(sessions=[]))
    with pytest.raises(msgspec.ValidationError):
        decode(GenerateSlots, generation(sessions=[SESSION] * 101))
    assert len(decode(GenerateSlots, generation(sessions=[SESSION] * 100)).sessions) == 100


def test_generating_needs_real_dates() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(GenerateSlots, generation(first_day="2026-02-30"))


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (CancelAppointment, {"appointment_id": ID, "reason": "x" * 501}),
        (BookAppointment, {"slot_id": ID, "reason": "x" * 501}),
        (BookAppointment, {"slot_id": ID, "symptoms": ["cough"] * 51}),
        (BookAppointment, {"slot_id": ID, "symptoms": ["x" * 501]}),
        (CompleteAppointment, {"appointment_id": ID, "notes": "x" * 20_001}),
        (RevertNoShow, {"appointment_id": ID, "reason": ""}),
        (RevertNoShow, {"appointment_id": ID, "reason": "x" * 501}),
        (BlockWindow, {**slot(), "reason": "x" * 501}),
    ],
    ids=[
        "cancel-reason",
        "booking-reason",
        "too-many-symptoms",
        "long-symptom",
        "notes",
        "empty-revert-reason",
        "long-revert-reason",
        "block-reason",
    ],
)
def test_free_text_is_bounded(cls: type[Any], body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(cls, body)


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (CancelAppointment, {"appointment_id": ID}),
        (HoldAppointment, {"slot_id": ID}),
        (CreateSlot, {"provider_id": ID, "start": START}),
        (RegisterProvider, {}),
    ],
    ids=["cancel-reason", "hold-type", "slot-end", "provider-profile"],
)
def test_required_fields_must_be_sent(cls: type[Any], body: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError, match="missing required field"):
        decode(cls, body)


def test_ids_must_be_uuids() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(BookAppointment, {"slot_id": "slot-1"})


def test_an_unknown_appointment_type_is_rejected() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(HoldAppointment, {"slot_id": ID, "appointment_type": "house_call"})


def test_only_the_profile_fields_sent_are_given_to_the_domain() -> None:
    command = decode(RegisterProvider, {"profile": {"name": "Dr A", "time_zone": "UTC"}})
    assert given_fields(command.profile) == {"name": "Dr A", "time_zone": "UTC"}


def test_the_idempotency_fingerprint_ignores_field_order_and_spacing() -> None:
    one = msgspec.json.decode(
        f'{{"slot_id": "{ID}", "reason": "cough"}}'.encode(), type=BookAppointment, strict=True
    )
    two = msgspec.json.decode(
        f'{{"reason":"cough","slot_id":"{ID}"}}'.encode(), type=BookAppointment, strict=True
    )
    other = decode(BookAppointment, {"slot_id": ID, "reason": "fever"})
    name = BookAppointment.name()
    assert fingerprint(name, encode(one)) == fingerprint(name, encode(two))
    assert fingerprint(name, encode(one)) != fingerprint(name, encode(other))
    assert fingerprint(name, encode(one)) != fingerprint("HoldAppointment", encode(one))
