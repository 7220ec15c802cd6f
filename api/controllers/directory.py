"""Provider and patient registration; a patient's erasure and legal hold (staff)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from api.deps import Injected
from api.openapi import COMMAND, REGISTRATION, documented
from api.schemas import EraseBody, LegalHoldBody
from api.strict import StrictBody
from commands.context import CommandContext
from commands.directory.messages import (
    ErasePatient,
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    SetLegalHold,
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

    @post(
        "/patients/{patient_id:uuid}/erase",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[EraseBody],
        return_dto=None,
        **documented("erasePatient", *COMMAND),
    )
    def erase_patient(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        patient_id: FromPath[UUID],
        data: JSONBody[EraseBody],
    ) -> CommandResult:
        """Staff: erase the patient's personal data everywhere (their key is destroyed). A
        legal hold refuses it (409 legal-hold); anyone else is told the patient is not found."""
        cmd = ErasePatient(patient_id=patient_id, reason=data.reason)
        return scheduling.erase_patient(cmd, context)

    @post(
        "/patients/{patient_id:uuid}/legal-hold",
        status_code=200,
        sync_to_thread=True,
        dto=StrictBody[LegalHoldBody],
        return_dto=None,
        **documented("setPatientLegalHold", *COMMAND),
    )
    def set_legal_hold(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        patient_id: FromPath[UUID],
        data: JSONBody[LegalHoldBody],
    ) -> CommandResult:
        """Staff: set (`held: true`, with a reason) or release a legal hold, which blocks
        erasure while it is set."""
        cmd = SetLegalHold(patient_id=patient_id, held=data.held, reason=data.reason)
        return scheduling.set_legal_hold(cmd, context)
