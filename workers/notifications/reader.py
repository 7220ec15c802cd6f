"""What the reminder policy and the send jobs read of the current state, through the
application: an appointment's state, a patient's audience for a category (allowed channels,
quiet hours, zone, language) and their addresses."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.appointment import Appointment
from domain.contact_preferences import ContactPreferences
from domain.notification import Category, Channel
from domain.patient import Patient
from domain.personal import PersonalData
from domain.provider import Provider
from domain.reminder import AppointmentState, Audience

SYSTEM = Actor(UUID("00000000-0000-4000-8000-00000000a0e1"), Role.SYSTEM)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Contact:
    """A patient's addresses and language, read at send time (None where absent or erased)."""

    phone: str | None
    email: str | None
    language: str
    zone: ZoneInfo


def _plain(value: object) -> str | None:
    if isinstance(value, PersonalData):
        return None if value.is_erased else str(value.value)
    return None if value is None else str(value)


class AppReader:
    def __init__(self, app: Scheduling) -> None:
        self.app = app

    def appointment(self, appointment_id: UUID) -> tuple[AppointmentState, UUID] | None:
        found = self.app.load_or_none(Appointment, appointment_id)
        if found is None:
            return None
        state = AppointmentState(
            found.id,
            found.patient_id,
            found.appointment_type,
            found.start,
            found.status.value,
            found.version,
        )
        return state, found.provider_id

    def _patient(self, patient_id: UUID) -> Patient | None:
        patient = self.app.load_or_none(Patient, patient_id)
        return None if patient is None or patient.erased else patient

    def audience(self, patient_id: UUID, category: Category) -> Audience:
        patient = self._patient(patient_id)
        if patient is None:
            return Audience((), None, UTC_ZONE)
        effective = self.app.contact_preferences(patient_id, SYSTEM)
        zone = ZoneInfo(str(patient.details.get("time_zone", "UTC")))
        return Audience(effective.allowed(category), effective.quiet, zone)

    def opted_out(self, patient_id: UUID) -> frozenset[Channel]:
        """Channels the patient withdrew from through the provider (STOP, error 21610)."""
        if self._patient(patient_id) is None:
            return frozenset()
        return self.app.contact_preferences(patient_id, SYSTEM).opted_out

    def preferences_patient(self, preferences_id: UUID) -> UUID | None:
        prefs = self.app.load_or_none(ContactPreferences, preferences_id)
        return None if prefs is None else prefs.patient_id

    def contact(self, patient_id: UUID) -> Contact | None:
        patient = self._patient(patient_id)
        if patient is None:
            return None
        effective = self.app.contact_preferences(patient_id, SYSTEM)
        language = effective.language or str(patient.details.get("preferred_language") or "en")
        return Contact(
            _plain(patient.details.get("phone")),
            _plain(patient.details.get("email")),
            language if language in ("en", "es") else "en",
            ZoneInfo(str(patient.details.get("time_zone", "UTC"))),
        )


def provider_name(app: Scheduling, provider_id: UUID | None) -> str:
    found = None if provider_id is None else app.load_or_none(Provider, provider_id)
    return "your provider" if found is None else str(found.profile.get("name", "your provider"))
