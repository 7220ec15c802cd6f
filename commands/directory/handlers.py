"""Directory capability: register and update providers and patients."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from commands.access import require_role
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.directory.messages import (
    RegisterPatient,
    RegisterProvider,
    UpdatePatient,
    UpdateProvider,
    given_fields,
)
from commands.workspace import Workspace
from domain.actor import EventMeta, Role
from domain.errors import ConflictError, ForbiddenError
from domain.patient import Patient
from domain.provider import Provider


class DirectoryCommands(SlotwiseApplication):
    @use_case
    def register_provider(
        self, cmd: RegisterProvider, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, Role.STAFF)
        provider_id = cmd.provider_id or uuid4()
        if self.exists(provider_id):
            raise ConflictError(f"id {provider_id} is already in use")
        provider = Provider.register(provider_id, given_fields(cmd.profile), meta)
        return Outcome(provider.id, [provider])

    @use_case
    def update_provider(
        self, cmd: UpdateProvider, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        own = ctx.actor.role is Role.PROVIDER and ctx.actor.subject == cmd.provider_id
        if not (ctx.actor.role is Role.STAFF or own):
            raise ForbiddenError("only staff or the provider may update this profile")
        ws = Workspace(self)
        provider = ws.get(Provider, cmd.provider_id, "provider")
        provider.update(given_fields(cmd.profile), meta)
        return Outcome(provider.id, ws.touched())

    @use_case
    def register_patient(
        self, cmd: RegisterPatient, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        if ctx.actor.role is Role.PATIENT:
            # Self-registration: the patient id is the token's subject.
            if cmd.patient_id not in (None, ctx.actor.subject):
                raise ForbiddenError("patients register themselves only")
            patient_id = ctx.actor.subject
        else:
            require_role(ctx.actor, Role.STAFF)
            patient_id = cmd.patient_id or uuid4()
        if self.exists(patient_id):
            raise ConflictError(f"id {patient_id} is already in use")
        patient = Patient.register(patient_id, given_fields(cmd.details), now.date(), meta)
        return Outcome(patient.id, [patient])

    @use_case
    def update_patient(
        self, cmd: UpdatePatient, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        own = ctx.actor.role is Role.PATIENT and ctx.actor.subject == cmd.patient_id
        if not (ctx.actor.role is Role.STAFF or own):
            raise ForbiddenError("only staff or the patient may update these details")
        ws = Workspace(self)
        patient = ws.get(Patient, cmd.patient_id, "patient")
        patient.update(given_fields(cmd.details), now.date(), meta)
        return Outcome(patient.id, ws.touched())
