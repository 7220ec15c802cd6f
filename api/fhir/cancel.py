"""`POST /fhir/r4/Appointment/{id}/$cancel`: an operation (not PATCH/PUT of status) so the
change goes through the one cancel command with its reason, If-Match and Idempotency-Key."""

from __future__ import annotations

from typing import Any

from litestar import Request

from api.fhir.parameters import parameters
from api.fhir.resources import Json
from api.fhir.search import resource_id
from commands.appointments.messages import CancelAppointment
from commands.structs import CommandResult
from domain.errors import ValidationError


def cancel_command(appointment_id: str, body: Any) -> CancelAppointment:
    wanted = resource_id(appointment_id, "Appointment")
    reasons = parameters(body).get("reason", [])
    if len(reasons) != 1 or not isinstance(reasons[0], str):
        raise ValidationError("Parameters must hold one reason as valueString")
    return CancelAppointment(appointment_id=wanted, reason=reasons[0])


def result_parameters(request: Request[Any, Any, Any], result: CommandResult) -> Json:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "appointment", "valueReference": {"reference": f"Appointment/{result.id}"}},
            {"name": "position", "valueInteger": result.position},
        ],
    }
