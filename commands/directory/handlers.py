"""Directory capability: register and update providers and patients."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from commands.access import require_role
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.directory.messages import (
    ErasePatient,
    RegisterPatient,
    RegisterProvider,
    SetLegalHold,
    UpdatePatient,
    UpdateProvider,
    given_fields,
)
from commands.workspace import Workspace
from domain.actor import EventMeta, Role
from domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
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
        # The patient's own data key, before any of their personal data is stored.
        self.keys.create(patient_id)
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

    @use_case
    def erase_patient(
        self, cmd: ErasePatient, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        """Record the erasure, then destroy the patient's data key: every personal value of
        theirs in every event reads as erased from then on. Repeating it is harmless, and
        finishes an erasure whose key destruction was interrupted."""
        patient = self._patient_for_staff(ctx, cmd.patient_id)
        patient.erase(cmd.reason, meta)
        touched: list[Aggregate] = [patient] if patient.pending_events else []
        return Outcome(patient.id, touched, after_save=partial(self.keys.destroy, patient.id))

    @use_case
    def set_legal_hold(
        self, cmd: SetLegalHold, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        patient = self._patient_for_staff(ctx, cmd.patient_id)
        if cmd.held:
            if not cmd.reason.strip():
                raise ValidationError("reason: a legal hold needs a reason")
            patient.set_legal_hold(cmd.reason, meta)
        else:
            patient.release_legal_hold(meta)
        return Outcome(patient.id, [patient] if patient.pending_events else [], {})

    def _patient_for_staff(self, ctx: CommandContext, patient_id: UUID) -> Patient:
        # Erasure and holds are staff business; to anyone else the patient is not there.
        if ctx.actor.role is not Role.STAFF:
            raise NotFoundError(f"patient {patient_id} not found")
        return self.load(Patient, patient_id, "patient")
