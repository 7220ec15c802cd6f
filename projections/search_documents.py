"""Search documents built from an aggregate's state at one version. Pure: the search projection
loads the aggregate, these decide what search sees of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.appointment import Appointment, Status
from domain.personal import PersonalData, text_of
from domain.provider import Provider
from domain.slot import Slot
from projections.search import GeoPoint, NoteDocument, ProviderDocument, SlotDocument


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _location(profile: dict[str, Any]) -> GeoPoint | None:
    lat, lon = profile.get("latitude"), profile.get("longitude")
    if lat is None or lon is None:
        return None
    return GeoPoint(lat=float(lat), lon=float(lon))


def provider_document(provider: Provider) -> ProviderDocument:
    """A provider as search sees it: the rating is the average of patients' ratings (None
    before the first); a provider who never said otherwise accepts new patients."""
    profile = provider.profile
    fee = provider.fee
    return ProviderDocument(
        id=provider.id,
        version=provider.version,
        name=str(profile["name"]),
        specializations=_strings(profile.get("specializations")),
        bio=str(profile.get("bio") or ""),
        education=str(profile.get("education") or ""),
        languages=_strings(profile.get("languages")),
        location=_location(profile),
        address=profile.get("address"),
        insurances=_strings(profile.get("insurances")),
        fee_amount=fee[0] if fee else None,
        fee_currency=(fee[1] or None) if fee else None,
        rating=provider.rating,
        accepting_new_patients=bool(profile.get("accepting_new_patients", True)),
        time_zone=provider.time_zone,
    )


def slot_document(slot: Slot, now: datetime) -> SlotDocument:
    """A slot with its seats free at `now` (bookings and holds live then take seats)."""
    return SlotDocument(
        id=slot.id,
        version=slot.version,
        provider_id=slot.provider_id,
        start=slot.start,
        end=slot.end,
        appointment_types=list(slot.appointment_types),
        location=slot.location,
        room=slot.room,
        status=slot.status.value,
        capacity=slot.capacity,
        free_seats=slot.free_seats(now),
    )


def note_document(appointment: Appointment) -> NoteDocument | None:
    """The clinical notes of a completed visit; None before completion, without notes, or once
    the patient was erased."""
    if appointment.status is not Status.COMPLETED or appointment.completed_at is None:
        return None
    stored: PersonalData | str = appointment.notes
    notes = text_of(stored)
    if (isinstance(stored, PersonalData) and stored.is_erased) or not notes or not notes.strip():
        return None
    return NoteDocument(
        appointment_id=appointment.id,
        version=appointment.version,
        patient_id=appointment.patient_id,
        provider_id=appointment.provider_id,
        completed_at=appointment.completed_at,
        notes=notes,
    )
