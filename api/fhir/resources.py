"""Read-model rows rendered as FHIR R4 resources (plain JSON objects), and the
CapabilityStatement listing exactly what the facade supports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from projections.queries import AppointmentView

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/r4"

Json = dict[str, Any]


def instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _last_updated(view: AppointmentView) -> datetime:
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
        "meta": {"versionId": str(view.version), "lastUpdated": instant(_last_updated(view))},
        "status": view.fhir_status,
        "appointmentType": {"coding": [{"code": view.appointment_type}]},
        "start": instant(view.start),
        "end": instant(view.end),
        "slot": [{"reference": f"Slot/{view.slot_id}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{view.patient_id}"}, "status": status},
            {"actor": {"reference": f"Practitioner/{view.provider_id}"}, "status": status},
        ],
    }
    if view.cancel_reason is not None and view.fhir_status == "cancelled":
        body["cancelationReason"] = {"text": view.cancel_reason}
    if view.hold_expires_at is not None and view.fhir_status == "pending":
        body["extension"] = [
            {
                "url": "https://slotwise.example/fhir/StructureDefinition/hold-expires-at",
                "valueInstant": instant(view.hold_expires_at),
            }
        ]
    return body


def searchset(resources: list[Json], self_url: str, next_url: str | None) -> Json:
    # No `total`: the read-model page does not count matches (Bundle.total is optional).
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def operation_outcome(status: int, code: str, diagnostics: str) -> Json:
    severity = "fatal" if status >= 500 else "error"
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def capability_statement(now: datetime) -> Json:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON],
        "implementation": {"description": "Slotwise scheduling facade", "url": BASE},
        "rest": [
            {
                "mode": "server",
                "security": {"description": "Bearer JWT, as the JSON API"},
                "resource": [
                    {
                        "type": "Appointment",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "patient", "type": "reference"},
                            {"name": "practitioner", "type": "reference"},
                            {"name": "date", "type": "date"},
                            {"name": "status", "type": "token"},
                            {"name": "_count", "type": "number"},
                        ],
                        "operation": [
                            {
                                "name": "cancel",
                                "definition": "https://slotwise.example/fhir/OperationDefinition/Appointment-cancel",
                            }
                        ],
                    }
                ],
            }
        ],
    }
