"""Provider and patient registration."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from api.deps import Injected
from api.openapi import COMMAND, REGISTRATION, documented
from api.strict import StrictBody
from commands.context import CommandContext
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    UpdatePatient,
    UpdateProvider,
)
from commands.scheduling import Scheduling
from commands.structs import CommandResult


class DirectoryController(Controller):
    path = "/v1"
    tags = ["directory"]

    @post(
        "/providers",
        status_code=201,
        sync_to_thread=True,
        dto=StrictBody[RegisterProvider],
        return_dto=None,
        **documented("registerProvider", *REGISTRATION),
    )
    def register_provider(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[RegisterProvider],
    ) -> CommandResult:
        return scheduling.register_provider(data, context)

    @post(
        "/providers/{provider_id:uuid}/profile",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[ProviderProfile],
        return_dto=None,
        **documented("updateProviderProfile", *COMMAND),
    )
    def update_provider(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        provider_id: FromPath[UUID],
        data: JSONBody[ProviderProfile],
    ) -> CommandResult:
        cmd = UpdateProvider(provider_id=provider_id, profile=data)
        return scheduling.update_provider(cmd, context)

    @post(
        "/patients",
        status_code=201,
        sync_to_thread=True,
        dto=StrictBody[RegisterPatient],
        return_dto=None,
        **documented("registerPatient", *REGISTRATION),
    )
    def register_patient(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        data: JSONBody[RegisterPatient],
    ) -> CommandResult:
        return scheduling.register_patient(data, context)

    @post(
        "/patients/{patient_id:uuid}/details",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[PatientDetails],
        return_dto=None,
        **documented("updatePatientDetails", *COMMAND),
    )
    def update_patient(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        patient_id: FromPath[UUID],
        data: JSONBody[PatientDetails],
    ) -> CommandResult:
        cmd = UpdatePatient(patient_id=patient_id, details=data)
        return scheduling.update_patient(cmd, context)
