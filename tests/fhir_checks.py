"""Three independent checks of every FHIR resource the facade emits, nested ones included
(Bundle entries, Parameters resources):

1. the `fhir.resources` R4B models (structure and types; R4 and R4B scheduling resources are
   structurally the same);
2. the official HL7 FHIR R4 JSON Schema (fhir.schema.json, which enforces the status codes),
   vendored in tests/fhir_schema/ with its provenance;
3. FHIRPath invariants of the specification (fhirpathpy, R4 model): Appointment app-2/3/4,
   Period per-1 (Schedule.planningHorizon), Bundle bdl-1/2, and start <= end on Slot and
   Appointment."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.models import models

SCHEMA = Path(__file__).parent / "fhir_schema" / "fhir.schema.json.gz"

INVARIANTS: dict[str, dict[str, str]] = {
    "Appointment": {
        "app-2": "start.exists() = end.exists()",
        "app-3": "(start.exists() and end.exists()) or "
        "(status in ('proposed' | 'cancelled' | 'waitlist'))",
        "app-4": "cancelationReason.exists().not() or (status='noshow' or status='cancelled')",
        "start-before-end": "start.empty() or end.empty() or start <= end",
    },
    "Slot": {"start-before-end": "start <= end"},
    "Schedule": {
        "per-1": "planningHorizon.empty() or planningHorizon.start.empty() or "
        "planningHorizon.end.empty() or (planningHorizon.start <= planningHorizon.end)",
    },
    "Bundle": {
        "bdl-1": "total.empty() or (type = 'searchset') or (type = 'history')",
        "bdl-2": "entry.search.empty() or (type = 'searchset')",
    },
}


@cache
def _schema() -> dict[str, Any]:
    with gzip.open(SCHEMA, "rt", encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    # The vendored schema is R4's 4.0.0 release, whose FHIR-version value set predates the
    # 4.0.1 technical correction this facade declares (as IHE ITI Scheduling does); that one
    # code is added, nothing else is changed (tests/fhir_schema/README.md).
    versions = loaded["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]
    versions["enum"] = [*versions["enum"], "4.0.1"]
    return loaded


@cache
def _validator(kind: str) -> jsonschema.Draft6Validator:
    # The document's root is a oneOf over every resource; validate against the one definition.
    root = {k: v for k, v in _schema().items() if k not in ("oneOf", "discriminator")}
    return jsonschema.Draft6Validator({**root, "$ref": f"#/definitions/{kind}"})


def check(body: dict[str, Any]) -> dict[str, Any]:
    """`body` passes all three checks (and so does every resource inside it); returns it."""
    kind = body["resourceType"]
    get_fhir_model_class(kind).model_validate(body)
    errors = [e.message for e in _validator(kind).iter_errors(body)]
    assert not errors, f"{kind} is not valid against fhir.schema.json: {errors[:3]}"
    for name, expression in INVARIANTS.get(kind, {}).items():
        assert evaluate(body, expression, {}, models["r4"]) == [True], f"{kind} breaks {name}"
    for entry in body.get("entry", []):
        check(entry["resource"])
    for parameter in body.get("parameter", []):
        if "resource" in parameter:
            check(parameter["resource"])
    return body


def schema_errors(body: dict[str, Any]) -> list[str]:
    """What the JSON Schema alone finds wrong (for tests that show it catches mistakes)."""
    return [e.message for e in _validator(body["resourceType"]).iter_errors(body)]
