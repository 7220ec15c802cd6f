"""Read-model rows rendered as FHIR R4 resources (plain JSON objects): Appointment, the
searchset Bundle and OperationOutcome; the directory's resources are in directory_resources."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from projections.queries import AppointmentView

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/r4"

Json = dict[str, Any]
SYSTEM = "https://slotwise.example/fhir"
APPOINTMENT_TYPES = f"{SYSTEM}/CodeSystem/appointment-type"
HOLD_EXPIRY = f"{SYSTEM}/StructureDefinition/hold-expires-at"
POSITION_HEADER = "X-Log-Position"  # on a command's answer: the log position it reached


def instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def meta(version: int, updated_at: datetime) -> Json:
    """`versionId` is the aggregate's version (the ETag's), `lastUpdated` its last event's time."""
    return {"versionId": str(version), "lastUpdated": instant(updated_at)}


def appointment_type(code: str) -> Json:
    return {"coding": [{"system": APPOINTMENT_TYPES, "code": code}]}


def _last_updated(view: AppointmentView) -> datetime:
    if view.updated_at is not None:
        return view.updated_at
    stamps = [
        view.booked_at,
        view.confirmed_at,
        view.checked_in_at,
        view.started_at,
        view.completed_at,
        view.cancelled_at,
        view.no_show_at,
    ]
    known = [s for s in stamps if s is not None]
    return max(known) if known else view.start


def _participant_status(view: AppointmentView) -> str:
    # A held appointment is not yet agreed by anyone; every other status has its actors accepted.
    return "tentative" if view.fhir_status == "pending" else "accepted"


def appointment(view: AppointmentView) -> Json:
    status = _participant_status(view)
    body: Json = {
        "resourceType": "Appointment",
        "id": str(view.id),
        "meta": meta(view.version, _last_updated(view)),
        "status": view.fhir_status,
        "serviceType": [appointment_type(view.appointment_type)],
        "appointmentType": appointment_type(view.appointment_type),
        "start": instant(view.start),
        "end": instant(view.end),
        "slot": [{"reference": f"Slot/{view.slot_id}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{view.patient_id}"}, "status": status},
            {"actor": {"reference": f"Practitioner/{view.provider_id}"}, "status": status},
        ],
    }
    if view.reason:
        body["reasonCode"] = [{"text": view.reason}]
    if view.cancel_reason is not None and view.fhir_status == "cancelled":
        body["cancelationReason"] = {"text": view.cancel_reason}
    if view.hold_expires_at is not None and view.fhir_status == "pending":
        body["extension"] = [
            {
                "url": HOLD_EXPIRY,
                "valueInstant": instant(view.hold_expires_at),
            }
        ]
    return body


def searchset(resources: list[Json], total: int, links: list[dict[str, str]]) -> Json:
    """A searchset Bundle; resources without an id (proposed Appointments) have no fullUrl."""
    entries: list[Json] = []
    for r in resources:
        entry: Json = {"resource": r, "search": {"mode": "match"}}
        if "id" in r:
            entry = {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", **entry}
        entries.append(entry)
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }


def operation_outcome(status: int, code: str, diagnostics: str) -> Json:
    severity = "fatal" if status >= 500 else "error"
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }
