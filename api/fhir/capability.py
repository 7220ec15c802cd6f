"""The CapabilityStatement: exactly the interactions, search parameters and operations the
facade serves, built from the same tables the routes check parameters against."""

from __future__ import annotations

from datetime import datetime

from api.fhir.resources import BASE, FHIR_JSON, SYSTEM, Json, instant
from api.fhir.search import SEARCH_PARAMS

IHE = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition"
# Appointment operations: name -> its definition (the IHE ITI Scheduling ones, and ours).
OPERATIONS = {
    "find": f"{IHE}/appointment-find",  # ITI-115
    "hold": f"{IHE}/appointment-hold",  # ITI-116
    "book": f"{IHE}/appointment-book",  # ITI-117
    "cancel": f"{SYSTEM}/OperationDefinition/Appointment-cancel",
}
INTERACTIONS = ("read", "search-type")


def capability_statement(now: datetime) -> Json:
    resources: list[Json] = []
    for kind, params in SEARCH_PARAMS.items():
        resource: Json = {
            "type": kind,
            "interaction": [{"code": code} for code in INTERACTIONS],
            "versioning": "versioned",
            "readHistory": False,
            "conditionalUpdate": False,
            "searchParam": [
                *({"name": name, "type": kind_of} for name, kind_of in params.items()),
                {"name": "_count", "type": "number"},
            ],
        }
        if kind == "Appointment":
            resource["operation"] = [
                {"name": name, "definition": url} for name, url in OPERATIONS.items()
            ]
        resources.append(resource)
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
                "resource": resources,
            }
        ],
    }
