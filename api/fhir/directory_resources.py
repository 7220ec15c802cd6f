"""Directory rows rendered as FHIR R4 resources: a provider is one Practitioner, one
PractitionerRole and one Schedule (all with the provider's id and version); a patient a
Patient; a slot a Slot of its provider's Schedule; a free slot a proposed Appointment ($find)."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from api.fhir.resources import Json, appointment_type, instant, meta
from domain.fhir_status import slot_fhir_status
from projections.directory import PatientView, ProviderView
from projections.queries import SlotView

CODE = re.compile(r"^[^\s]+(\s[^\s]+)*$")  # what FHIR's `code` type allows


def _concept(text: str) -> Json:
    # A specialty is free text in the profile: a code where it is shaped as one, always text.
    if CODE.match(text):
        return {"coding": [{"code": text}], "text": text}
    return {"text": text}


def practitioner(view: ProviderView) -> Json:
    return {
        "resourceType": "Practitioner",
        "id": str(view.id),
        "meta": meta(view.version, view.updated_at),
        "active": True,
        "name": [{"text": view.name}],
    }


def practitioner_role(view: ProviderView) -> Json:
    body: Json = {
        "resourceType": "PractitionerRole",
        "id": str(view.id),
        "meta": meta(view.version, view.updated_at),
        "active": True,
        "practitioner": {"reference": f"Practitioner/{view.id}", "display": view.name},
    }
    if view.specializations:
        body["specialty"] = [_concept(s) for s in view.specializations]
    if view.address:
        body["location"] = [{"display": view.address}]
    return body


def schedule(view: ProviderView) -> Json:
    body: Json = {
        "resourceType": "Schedule",
        "id": str(view.id),
        "meta": meta(view.version, view.updated_at),
        "active": True,
        "actor": [
            {"reference": f"Practitioner/{view.id}", "display": view.name},
            {"reference": f"PractitionerRole/{view.id}"},
        ],
    }
    if view.specializations:
        body["specialty"] = [_concept(s) for s in view.specializations]
    if view.first_slot_start is not None and view.last_slot_end is not None:
        body["planningHorizon"] = {
            "start": instant(view.first_slot_start),
            "end": instant(view.last_slot_end),
        }
    return body


def patient(view: PatientView) -> Json:
    return {
        "resourceType": "Patient",
        "id": str(view.id),
        "meta": meta(view.version, view.updated_at),
        "name": [{"text": view.name}],
    }


def slot(view: SlotView) -> Json:
    body: Json = {
        "resourceType": "Slot",
        "id": str(view.id),
        "meta": meta(view.version, view.updated_at or view.start),
        "schedule": {"reference": f"Schedule/{view.provider_id}"},
        "status": slot_fhir_status(view.status, view.free_seats, view.held_seats),
        "start": instant(view.start),
        "end": instant(view.end),
        "overbooked": view.booked_seats + view.held_seats > view.capacity,
    }
    if view.appointment_types:
        body["serviceType"] = [appointment_type(t) for t in view.appointment_types]
    if len(view.appointment_types) == 1:
        body["appointmentType"] = appointment_type(view.appointment_types[0])
    where = [w for w in (view.location, view.room) if w]
    if where:
        body["comment"] = ", ".join(where)
    return body


def proposed(view: SlotView, kind: str, patient_id: UUID | None, now: datetime) -> Json:
    """A potential appointment in a free slot ($find, IHE ITI-115): no id until it is held."""
    participants: list[Json] = [
        {"actor": {"reference": f"Practitioner/{view.provider_id}"}, "status": "needs-action"}
    ]
    if patient_id is not None:
        participants.append(
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "needs-action"}
        )
    return {
        "resourceType": "Appointment",
        "status": "proposed",
        "serviceType": [appointment_type(kind)],
        "appointmentType": appointment_type(kind),
        "start": instant(view.start),
        "end": instant(view.end),
        "slot": [{"reference": f"Slot/{view.id}"}],
        "created": instant(now)[:10],
        "participant": participants,
    }
