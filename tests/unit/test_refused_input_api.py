"""Client mistakes that used to answer 500 (or were stored and then broke a projection) answer
a 4xx problem naming the field, and store no event. The app runs on in-memory persistence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

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
from tests.fakes import FixedClock
from tests.unit.test_api_edges import NOW, assert_problem, bearer, make_client

STAFF = Actor(uuid.uuid4(), Role.STAFF)


@dataclass
class Edge:
    client: TestClient[Any]
    app: Scheduling
    provider_id: UUID
    patient_id: UUID
    slot_id: UUID
    appointment_id: UUID  # in progress, so it can be completed or cancelled

    def events(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def refused(self, response: Any, field: str) -> None:
        """A 422 problem naming the field, and nothing stored."""
        detail = assert_problem(response, 422, "validation-failed")["detail"]
        assert field in detail, detail


@pytest.fixture
def edge() -> Iterator[Edge]:
    with make_client(FixedClock(NOW)) as client:
        app: Scheduling = client.app.state.services.scheduling
        staff = CommandContext(STAFF)
        profile = ProviderProfile(name="Dr Who", time_zone="Europe/Berlin")
        provider_id = app.register_provider(RegisterProvider(profile=profile), staff).id
        details = PatientDetails(name="Pat", time_zone="UTC")
        patient_id = app.register_patient(RegisterPatient(details=details), staff).id
        start = NOW + timedelta(minutes=10)
        slot = CreateSlot(provider_id=provider_id, start=start, end=start + timedelta(minutes=30))
        slot_id = app.create_slot(slot, staff).id
        booking = BookAppointment(slot_id=slot_id, patient_id=patient_id)
        appointment_id = app.book(booking, staff).id
        app.check_in(CheckIn(appointment_id=appointment_id), staff)
        app.start(StartAppointment(appointment_id=appointment_id), staff)
        yield Edge(client, app, provider_id, patient_id, slot_id, appointment_id)


STAFF_TOKEN = bearer(Role.STAFF)


def post(edge: Edge, path: str, body: dict[str, Any], field: str) -> None:
    before = edge.events()
    edge.refused(edge.client.post(path, json=body, headers=STAFF_TOKEN), field)
    assert edge.events() == before


@pytest.mark.parametrize("name", ["Nul\u0000Patient", "Bell\u0007", "Tab\tbed", "\u202eevil"])
def test_a_patient_name_with_a_control_character_is_refused(edge: Edge, name: str) -> None:
    body = {"details": {"name": name, "time_zone": "UTC"}}
    post(edge, "/v1/patients", body, "name")


def test_a_patient_registering_themselves_with_a_nul_in_their_name_is_refused(
    edge: Edge,
) -> None:
    before = edge.events()
    response = edge.client.post(
        "/v1/patients",
        json={"details": {"name": "Nul\u0000Patient", "time_zone": "UTC"}},
        headers=bearer(Role.PATIENT),
    )
    edge.refused(response, "name")
    assert edge.events() == before


def test_a_provider_name_with_a_nul_is_refused(edge: Edge) -> None:
    post(edge, "/v1/providers", {"profile": {"name": "Dr\u0000", "time_zone": "UTC"}}, "name")


@pytest.mark.parametrize("field", ["specializations", "languages", "insurances"])
def test_a_control_character_in_a_profile_list_is_refused(edge: Edge, field: str) -> None:
    path = f"/v1/providers/{edge.provider_id}/profile"
    post(edge, path, {field: ["fine", "not\u0000fine"]}, f"{field}[1]")


def test_a_bio_may_hold_line_breaks_and_tabs_but_no_nul(edge: Edge) -> None:
    path = f"/v1/providers/{edge.provider_id}/profile"
    ok = edge.client.post(path, json={"bio": "Line one\r\n\tLine two"}, headers=STAFF_TOKEN)
    assert ok.status_code == 200, ok.text
    post(edge, path, {"bio": "Line one\u0000"}, "bio")


@pytest.mark.parametrize("zone", ["America", "", "/etc/passwd", "..", "Europe/../UTC", "x" * 300])
def test_a_time_zone_that_is_no_zone_is_refused_for_providers_and_patients(
    edge: Edge, zone: str
) -> None:
    post(edge, "/v1/providers", {"profile": {"name": "Dr", "time_zone": zone}}, "time_zone")
    post(edge, "/v1/patients", {"details": {"name": "Pat", "time_zone": zone}}, "time_zone")
    post(edge, f"/v1/patients/{edge.patient_id}/details", {"time_zone": zone}, "time_zone")


@pytest.mark.parametrize(
    "amount", ["NaN", "sNaN", "Infinity", "-Infinity", "-1", "1E+400", "0.001", "1e-999999"]
)
def test_a_provider_fee_that_is_no_amount_of_money_is_refused(edge: Edge, amount: str) -> None:
    path = f"/v1/providers/{edge.provider_id}/profile"
    post(edge, path, {"fee_amount": amount, "fee_currency": "EUR"}, "fee_amount")


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "ÉUR"])
def test_a_fee_currency_must_be_three_capital_letters(edge: Edge, currency: str) -> None:
    path = f"/v1/providers/{edge.provider_id}/profile"
    post(edge, path, {"fee_amount": "80.00", "fee_currency": currency}, "fee_currency")


@pytest.mark.parametrize("fee", ["NaN", "Infinity", "-5"])
def test_a_cancellation_fee_that_is_no_amount_of_money_is_refused(edge: Edge, fee: str) -> None:
    path = f"/v1/appointments/{edge.appointment_id}/cancel"
    post(edge, path, {"reason": "late", "fee": fee, "currency": "EUR"}, "fee")


def test_a_cancellation_reason_with_a_nul_is_refused(edge: Edge) -> None:
    path = f"/v1/appointments/{edge.appointment_id}/cancel"
    post(edge, path, {"reason": "late\u0000"}, "reason")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31T23:00:00-05:00", "9999-12-31T23:30:00-05:00"),
        ("0001-01-01T00:14:33.86+02:06", "0001-01-01T01:00:00+02:06"),
        ("2200-01-01T00:00:00Z", "2200-01-01T00:30:00Z"),
    ],
)
def test_a_slot_outside_the_supported_years_is_refused(edge: Edge, start: str, end: str) -> None:
    body = {"provider_id": str(edge.provider_id), "start": start, "end": end}
    post(edge, "/v1/slots", body, "start")


@pytest.mark.parametrize(
    ("length", "message"),
    [(timedelta(days=400), "end is too far"), (timedelta(hours=24, minutes=1), "24 hours")],
)
def test_a_slot_longer_than_a_day_is_refused(edge: Edge, length: timedelta, message: str) -> None:
    start = NOW + timedelta(days=1)
    body = {
        "provider_id": str(edge.provider_id),
        "start": start.isoformat(),
        "end": (start + length).isoformat(),
    }
    post(edge, "/v1/slots", body, message)


def test_generating_slots_in_the_year_9999_is_refused(edge: Edge) -> None:
    body = {
        "provider_id": str(edge.provider_id),
        "first_day": "9999-12-30",
        "last_day": "9999-12-31",
        "sessions": [
            {"weekday": d, "start": "22:00:00", "end": "23:59:00", "slot_minutes": 30}
            for d in range(1, 8)
        ],
    }
    post(edge, "/v1/slots/generate", body, "first_day")


def nested(levels: int) -> bytes:
    return b'{"vitals": ' + b'{"a": ' * levels + b"1" + b"}" * levels + b"}"


@pytest.mark.parametrize(("levels", "status"), [(5000, 400), (500, 422), (9, 422), (8, 200)])
def test_vitals_may_nest_eight_levels_deep_and_no_deeper(
    edge: Edge, levels: int, status: int
) -> None:
    before = edge.events()
    response = edge.client.post(
        f"/v1/appointments/{edge.appointment_id}/complete",
        content=nested(levels),
        headers={**STAFF_TOKEN, "Content-Type": "application/json"},
    )
    if status == 200:
        assert response.status_code == 200, response.text
        return
    slug = "invalid-request" if status == 400 else "validation-failed"
    assert "vitals" in assert_problem(response, status, slug)["detail"]
    assert edge.events() == before


def test_completing_with_a_control_character_in_a_vitals_key_or_value_is_refused(
    edge: Edge,
) -> None:
    path = f"/v1/appointments/{edge.appointment_id}/complete"
    post(edge, path, {"vitals": {"bp\u0000": "120/80"}}, "vitals")
    post(edge, path, {"vitals": {"bp": {"note": "high\u0000"}}}, "vitals.bp.note")
    post(edge, path, {"vitals": {"reading": 2**60}}, "vitals.reading")


def test_notes_may_hold_line_breaks_and_complete_the_visit(edge: Edge) -> None:
    response = edge.client.post(
        f"/v1/appointments/{edge.appointment_id}/complete",
        json={"notes": "Seen.\n\tFollow up.", "vitals": {"bp": {"sys": 120, "dia": 80}}},
        headers=STAFF_TOKEN,
    )
    assert response.status_code == 200, response.text


def test_reading_from_an_instant_beyond_the_supported_years_is_422(edge: Edge) -> None:
    for path in ("/v1/appointments", "/v1/slots/available"):
        for instant in ("0001-01-01T00:14:33.86+02:06", "9999-12-31T23:00:00-05:00"):
            response = edge.client.get(path, params={"from": instant}, headers=STAFF_TOKEN)
            assert_problem(response, 422, "validation-failed")
