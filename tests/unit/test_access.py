"""Who may see which appointment: one rule (domain/access.py) for the write side, which reports
a hidden appointment as missing, and the read side, which narrows lookups and listings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from commands.access import require_visible
from domain.access import AppointmentScope, appointment_scope, may_see
from domain.actor import Actor, EventMeta, Role
from domain.appointment import Appointment
from domain.errors import ForbiddenError, NotFoundError
from projections.queries import AppointmentFilter, scoped

pytestmark = pytest.mark.unit

PATIENT = uuid4()
PROVIDER = uuid4()
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
META = EventMeta(
    actor_id=uuid4(), actor_role="staff", correlation_id=uuid4(), causation_id=uuid4(), command="T"
)


@dataclass(frozen=True)
class Visit:
    patient_id: UUID
    provider_id: UUID


VISIT = Visit(PATIENT, PROVIDER)


def appointment() -> Appointment:
    return Appointment.schedule(
        appointment_id=uuid4(),
        patient_id=PATIENT,
        provider_id=PROVIDER,
        slot_id=uuid4(),
        start=START,
        end=START + timedelta(minutes=30),
        appointment_type="in_person",
        reason="cough",
        symptoms=[],
        hold_expires_at=START - timedelta(days=1),
        overbooked=False,
        meta=META,
    )


def test_a_patient_sees_their_own_appointment_only() -> None:
    assert may_see(Actor(PATIENT, Role.PATIENT), VISIT)
    assert not may_see(Actor(uuid4(), Role.PATIENT), VISIT)


def test_a_provider_sees_the_appointments_on_their_own_schedule_only() -> None:
    assert may_see(Actor(PROVIDER, Role.PROVIDER), VISIT)
    assert not may_see(Actor(uuid4(), Role.PROVIDER), VISIT)


def test_a_patient_id_does_not_open_the_appointments_of_a_provider_with_that_id() -> None:
    assert not may_see(Actor(PROVIDER, Role.PATIENT), VISIT)
    assert not may_see(Actor(PATIENT, Role.PROVIDER), VISIT)


@pytest.mark.parametrize("role", [Role.STAFF, Role.AUDITOR])
def test_staff_and_auditors_see_every_appointment_by_role(role: Role) -> None:
    assert may_see(Actor(uuid4(), role), VISIT)
    assert appointment_scope(Actor(uuid4(), role)) == AppointmentScope()


def test_an_analyst_sees_figures_but_no_single_appointment() -> None:
    analyst = Actor(uuid4(), Role.ANALYST)
    assert not may_see(analyst, VISIT)
    assert appointment_scope(analyst) is None
    with pytest.raises(ForbiddenError):
        scoped(analyst, AppointmentFilter())


def test_the_system_actor_sees_every_appointment_so_it_can_sweep_anyones_expired_hold() -> None:
    system = Actor(uuid4(), Role.SYSTEM)
    assert may_see(system, VISIT)
    assert appointment_scope(system) == AppointmentScope()
    require_visible(system, appointment())  # the write side agrees: no NotFoundError
    assert scoped(system, AppointmentFilter(patient_id=PATIENT)) == AppointmentFilter(
        patient_id=PATIENT
    )


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("subject", [PATIENT, PROVIDER, uuid4()])
def test_the_write_side_hides_exactly_what_the_read_side_hides(role: Role, subject: UUID) -> None:
    actor = Actor(subject, role)
    visible = may_see(actor, VISIT)
    if visible:
        require_visible(actor, appointment())
    else:
        with pytest.raises(NotFoundError):
            require_visible(actor, appointment())


def test_a_listing_is_narrowed_to_the_callers_own_appointments() -> None:
    wanted = AppointmentFilter(patient_id=uuid4(), provider_id=uuid4())
    patient = scoped(Actor(PATIENT, Role.PATIENT), wanted)
    assert (patient.patient_id, patient.provider_id) == (PATIENT, wanted.provider_id)
    provider = scoped(Actor(PROVIDER, Role.PROVIDER), wanted)
    assert (provider.patient_id, provider.provider_id) == (wanted.patient_id, PROVIDER)
    assert scoped(Actor(uuid4(), Role.STAFF), wanted) == wanted
