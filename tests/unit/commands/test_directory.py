"""The directory capability: registering and updating providers and patients."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

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
from domain.actor import Actor, Role
from domain.errors import (
    ConflictError,
    ForbiddenError,
    ValidationError,
)
from domain.patient import Patient
from domain.personal import PersonalData
from domain.provider import Provider
from tests.builders import (
    STAFF,
    as_,
    patient,
    provider,
    register_provider,
)

pytestmark = pytest.mark.unit


# --- directory --------------------------------------------------------------------------------


def test_staff_register_a_provider_who_then_updates_their_own_profile(app: Scheduling) -> None:
    provider_id = register_provider(app)
    changes = ProviderProfile(bio="Family medicine", fee_amount=Decimal("80.00"))

    app.update_provider(
        UpdateProvider(provider_id=provider_id, profile=changes), as_(provider(provider_id))
    )

    registered = app.load(Provider, provider_id, "provider")
    profile = registered.profile
    assert profile["name"] == "Dr Ada Lovelace"
    assert profile["bio"] == "Family medicine"
    assert registered.fee is not None
    assert registered.fee[0] == Decimal("80.00")


def test_updating_a_profile_with_unchanged_values_records_nothing(
    app: Scheduling, provider_id: UUID
) -> None:
    head = app.head_position()
    same = ProviderProfile(name="Dr Ada Lovelace")
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
    assert registered.details["phone"] == PersonalData(patient_id, "+4930123456")
    assert registered.details["time_zone"] == "UTC"  # codes stay plain
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
    assert app.load(Provider, provider_id, "provider").profile["name"] == "Dr Ada Lovelace"


def test_registering_a_patient_under_an_id_another_aggregate_uses_is_a_conflict(
    app: Scheduling,
) -> None:
    provider_id = register_provider(app)
    details = PatientDetails(name="Pat Doe", time_zone="Europe/Berlin")
    with pytest.raises(ConflictError, match="already in use"):
        app.register_patient(RegisterPatient(patient_id=provider_id, details=details), as_(STAFF))
