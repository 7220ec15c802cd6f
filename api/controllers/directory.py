"""Provider and patient registration."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody

from api.services import command_context, services
from api.strict import StrictBody
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    UpdatePatient,
    UpdateProvider,
)
from commands.structs import CommandResult

Req = Request[Any, Any, Any]


class DirectoryController(Controller):
    path = "/v1"
    tags = ["directory"]

    @post(
        "/providers",
        status_code=201,
        sync_to_thread=True,
        dto=StrictBody[RegisterProvider],
        return_dto=None,
    )
    def register_provider(self, request: Req, data: JSONBody[RegisterProvider]) -> CommandResult:
        return services(request).scheduling.register_provider(data, command_context(request))

    @post(
        "/providers/{provider_id:uuid}/profile",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[ProviderProfile],
        return_dto=None,
    )
    def update_provider(
        self, request: Req, provider_id: FromPath[UUID], data: JSONBody[ProviderProfile]
    ) -> CommandResult:
        cmd = UpdateProvider(provider_id=provider_id, profile=data)
        return services(request).scheduling.update_provider(cmd, command_context(request))

    @post(
        "/patients",
        status_code=201,
        sync_to_thread=True,
        dto=StrictBody[RegisterPatient],
        return_dto=None,
    )
    def register_patient(self, request: Req, data: JSONBody[RegisterPatient]) -> CommandResult:
        return services(request).scheduling.register_patient(data, command_context(request))

    @post(
        "/patients/{patient_id:uuid}/details",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[PatientDetails],
        return_dto=None,
    )
    def update_patient(
        self, request: Req, patient_id: FromPath[UUID], data: JSONBody[PatientDetails]
    ) -> CommandResult:
        cmd = UpdatePatient(patient_id=patient_id, details=data)
        return services(request).scheduling.update_patient(cmd, command_context(request))
