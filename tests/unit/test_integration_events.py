"""Integration events: every domain event survives the trip through its published form, the
published documents are current, and keys and headers carry no PHI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from commands.directory.messages import PatientDetails
from commands.scheduling import Scheduling
from projections.integration import (
    INTERNAL_TOPIC,
    SCHEMA_VERSION,
    Catalog,
    IntegrationEvent,
    documents,
    message_headers,
    message_key,
)
from projections.withholding import PersonalDataWithheldError
from tests.builders import in_memory_app
from tests.every_event import drive_every_event, every_event_clock

ROOT = Path(__file__).resolve().parents[2]
PATIENT_NAME = "Zelda Quixote-Phiinfo"
PATIENT_PHONE = "+4930123456789"
# Every personal value the scenario records, each unlike anything else in it.
PERSONAL_VALUES = (
    PATIENT_NAME,
    PATIENT_PHONE,
    "1990-01-02",
    "10115",
    "chest pain since Tuesday",
    "palpitations",
    "resting ECG unremarkable",
    "mentions family history",
    "142/91",
    "moving to Hamburg",
    "was in the waiting room",
    "no longer coming",
    "litigation 2030-17",
)


def run_scenario() -> tuple[Scheduling, list[tuple[int, Any]]]:
    """Drive every command once; return the app and its whole log."""
    clock = every_event_clock()
    app = in_memory_app(clock)
    details = PatientDetails(
        name=PATIENT_NAME,
        time_zone="Europe/Berlin",
        phone=PATIENT_PHONE,
        birth_date=date(1990, 1, 2),
    )
    # Read the log before the erasure, so the values are still there to leak; then the rest.
    before: list[tuple[int, Any]] = []
    drive_every_event(app, clock, details, before_erasure=lambda: before.extend(_log(app, 1)))
    return app, before + _log(app, start=before[-1][0] + 1)


def _log(app: Scheduling, start: int) -> list[tuple[int, Any]]:
    notifications = app.recorder.select_notifications(start=start, limit=10_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in notifications]


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
        received = msgspec.json.decode(wire, type=IntegrationEvent)
        if message.personal_data_withheld:
            # What it withheld is read from the event store (workers/kafka_projection.py).
            with pytest.raises(PersonalDataWithheldError):
                catalog.decode(received)
            seen.add(type(event).__qualname__)
            continue
        back = catalog.decode(received)
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
        assert message.schema_version == SCHEMA_VERSION == 2


def test_integration_events_carry_no_personal_value_only_whose_it_was(
    log: list[tuple[int, Any]],
) -> None:
    catalog = Catalog()
    wire = b"".join(msgspec.json.encode(catalog.encode(e, p)) for p, e in log)
    leaked = [value for value in PERSONAL_VALUES if value.encode() in wire]
    assert leaked == []
    withheld = {
        catalog.encode(e, p).event_type
        for p, e in log
        if catalog.encode(e, p).personal_data_withheld
    }
    assert {
        "Patient.Registered",
        "Patient.DetailsUpdated",
        "Patient.LegalHoldSet",
        "Appointment.Scheduled",
        "Appointment.Completed",
        "Appointment.Rescheduled",
        "Appointment.NoShowReverted",
        "Appointment.Cancelled",
    } <= withheld
    assert "Patient.Erased" not in withheld
    completed = next(
        catalog.encode(e, p) for p, e in log if type(e).__qualname__ == "Appointment.Completed"
    )
    patient_id = next(
        e.patient_id for _, e in log if type(e).__qualname__ == "Appointment.Scheduled"
    )
    assert completed.data["notes"] == {"subject": str(patient_id)}


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
