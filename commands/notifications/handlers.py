"""Contact preferences and consent (issue 10): the patient changes their own, staff anyone's;
to anyone else the patient does not exist. Opt-outs reported by a provider are recorded by the
system; push devices are registered per patient device, their subscription kept as the
patient's personal data (an erasure erases it)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from commands.access import require_role
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.notifications.messages import (
    RecordOptOut,
    RegisterPushDevice,
    RemovePushDevice,
    UpdateContactPreferences,
)
from commands.ports import PushSubscription
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.contact_preferences import ContactPreferences, Effective, defaults, preferences_id
from domain.errors import NotFoundError
from domain.patient import Patient
from domain.personal import JSONValue, PersonalData, personal


def may_manage(actor: Actor, patient_id: UUID) -> bool:
    return actor.role is Role.STAFF or (actor.role is Role.PATIENT and actor.subject == patient_id)


class NotificationCommands(SlotwiseApplication):
    def _preferences(
        self, ws: Workspace, patient_id: UUID, actor: Actor, meta: EventMeta
    ) -> ContactPreferences:
        if not (may_manage(actor, patient_id) or actor.role is Role.SYSTEM):
            raise NotFoundError(f"patient {patient_id} not found")
        patient = ws.get(Patient, patient_id, "patient")
        patient.require_not_erased()
        return ws.get_or_create(
            ContactPreferences,
            preferences_id(patient_id),
            lambda: ContactPreferences(patient_id=patient_id, meta=meta),
        )

    @use_case
    def update_contact_preferences(
        self, cmd: UpdateContactPreferences, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, Role.PATIENT, Role.STAFF, Role.PROVIDER, Role.AUDITOR)
        ws = Workspace(self)
        prefs = self._preferences(ws, cmd.patient_id, ctx.actor, meta)
        source = "patient" if ctx.actor.role is Role.PATIENT else "staff"
        for category, channels in (cmd.channels or {}).items():
            prefs.choose_channels(category, list(channels), meta)
        if cmd.clear_quiet_hours:
            prefs.set_quiet_hours(None, None, meta)
        elif cmd.quiet_hours is not None:
            prefs.set_quiet_hours(cmd.quiet_hours.start, cmd.quiet_hours.end, meta)
        if cmd.language is not None:
            prefs.set_language(cmd.language, meta)
        for channel, given in (cmd.consent or {}).items():
            prefs.record_consent(channel, given, source, meta)
        return Outcome(prefs.id, ws.touched(), {"patient_id": cmd.patient_id})

    @use_case
    def record_opt_out(
        self, cmd: RecordOptOut, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, Role.SYSTEM)
        ws = Workspace(self)
        prefs = self._preferences(ws, cmd.patient_id, ctx.actor, meta)
        prefs.record_consent(cmd.channel, cmd.given, cmd.source, meta)
        return Outcome(prefs.id, ws.touched())

    @use_case
    def register_push_device(
        self, cmd: RegisterPushDevice, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        prefs = self._preferences(ws, cmd.patient_id, ctx.actor, meta)
        # The same browser registering again is the same device.
        device_id = uuid5(prefs.id, cmd.endpoint)
        subscription: dict[str, JSONValue] = {
            "endpoint": cmd.endpoint,
            "p256dh": cmd.p256dh,
            "auth": cmd.auth,
        }
        prefs.register_device(device_id, personal(cmd.patient_id, subscription), meta)
        return Outcome(prefs.id, ws.touched(), {"device_id": device_id})

    @use_case
    def remove_push_device(
        self, cmd: RemovePushDevice, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        prefs = self._preferences(ws, cmd.patient_id, ctx.actor, meta)
        if cmd.reason == "removed" and ctx.actor.role is not Role.SYSTEM:
            prefs.require_device(cmd.device_id)
        prefs.remove_device(cmd.device_id, cmd.reason, meta)
        return Outcome(prefs.id, ws.touched())

    def contact_preferences(self, patient_id: UUID, actor: Actor) -> Effective:
        """What applies to the patient now (their choices over the defaults)."""
        if not (may_manage(actor, patient_id) or actor.role is Role.SYSTEM):
            raise NotFoundError(f"patient {patient_id} not found")
        patient = self.load(Patient, patient_id, "patient")
        consent = bool(patient.details.get("notification_consent", False))
        prefs = self.load_or_none(ContactPreferences, preferences_id(patient_id))
        return defaults(consent) if prefs is None else prefs.effective(consent)

    def push_devices(self, patient_id: UUID) -> dict[UUID, PushSubscription]:
        """The patient's registered devices (for the send job); erased ones are gone."""
        prefs = self.load_or_none(ContactPreferences, preferences_id(patient_id))
        found: dict[UUID, PushSubscription] = {}
        for device_id, stored in ({} if prefs is None else prefs.devices).items():
            value = stored.value if isinstance(stored, PersonalData) else stored
            if isinstance(value, dict):
                found[device_id] = PushSubscription(
                    str(value["endpoint"]), str(value["p256dh"]), str(value["auth"])
                )
        return found
