"""Operation input: a `Parameters` body (or, for $find by GET, the query string) read as
name -> values, and the Appointment an IHE operation carries turned into command fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.fhir.search import reference
from domain.errors import ValidationError

# The value[x] of a parameter this facade reads, each as text.
SIMPLE_VALUES = ("valueString", "valueCode", "valueDateTime", "valueInstant", "valueDate")


def parameters(body: Any) -> dict[str, list[Any]]:
    """Each parameter's values: text, or the resource it carries."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise ValidationError("the body must be a Parameters resource")
    found: dict[str, list[Any]] = {}
    for p in body.get("parameter", []):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise ValidationError("every parameter needs a name")
        found.setdefault(p["name"], []).append(_value(p))
    return found


def _value(p: dict[str, Any]) -> Any:
    for key in SIMPLE_VALUES:
        if isinstance(p.get(key), str):
            return p[key]
    if isinstance(p.get("valueReference"), dict):
        return str(p["valueReference"].get("reference", ""))
    if isinstance(p.get("valueCoding"), dict):
        return str(p["valueCoding"].get("code", ""))
    if isinstance(p.get("resource"), dict):
        return p["resource"]
    raise ValidationError(f"parameter {p['name']} has no value this server reads")


@dataclass(frozen=True)
class Proposal:
    """What $hold and $book read from the Appointment they are given."""

    appointment_id: UUID | None
    slot_id: UUID | None
    patient_id: UUID | None
    appointment_type: str | None


def proposal(found: dict[str, list[Any]]) -> Proposal:
    given = found.get("appointment", [])
    if len(given) != 1 or not isinstance(given[0], dict):
        raise ValidationError("Parameters must hold one appointment resource")
    body = given[0]
    if body.get("resourceType") != "Appointment":
        raise ValidationError("the appointment parameter must be an Appointment")
    slots = [s.get("reference", "") for s in body.get("slot", []) if isinstance(s, dict)]
    if len(slots) > 1:
        raise ValidationError("the appointment must name one slot")
    actors = [
        p["actor"].get("reference", "")
        for p in body.get("participant", [])
        if isinstance(p, dict) and isinstance(p.get("actor"), dict)
    ]
    patients = [a for a in actors if str(a).startswith("Patient/")]
    codes = [
        c.get("code")
        for c in (body.get("appointmentType") or {}).get("coding", [])
        if isinstance(c, dict)
    ]
    raw_id = body.get("id")
    return Proposal(
        appointment_id=None if raw_id is None else reference(str(raw_id), "Appointment"),
        slot_id=reference(slots[0], "Slot") if slots else None,
        patient_id=reference(patients[0], "Patient") if patients else None,
        appointment_type=codes[0] if codes and isinstance(codes[0], str) else None,
    )
