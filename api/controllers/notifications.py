"""Notifications (issue 10): a patient's contact preferences and consent, push devices, the
in-app inbox, and the delivery records staff and auditors read. The patient reaches their own,
staff anyone's (auditors read delivery records); to anyone else the patient does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import Injected, MinPosition, NotificationServices, Offset, reads
from api.openapi import COMMAND, FOUND_OR_NOT, QUERY, documented
from api.read_audit import audits_reads
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.notifications.handlers import may_manage
from commands.notifications.messages import (
    CategoryName,
    ChannelName,
    ConsentName,
    Key,
    QuietHoursBody,
    RegisterPushDevice,
    RemovePushDevice,
    UpdateContactPreferences,
    Url,
)
from commands.scheduling import Scheduling
from commands.structs import CommandResult
from domain.actor import Actor, Role
from domain.errors import ConflictError, NotFoundError
from projections.audit.access import Access
from projections.notifications.deliveries import Delivery
from projections.notifications.policy import NAME as POLICY

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (1-200)")]
# Delivery records and the inbox are written by the reminder policy and the send jobs; a read
# may wait for the policy to reach a position (a booking's, say) like any read model.
READS = {"position": reads(POLICY)}


class PreferencesBody(Body, frozen=True, kw_only=True):
    channels: dict[CategoryName, list[ChannelName]] | None = None
    quiet_hours: QuietHoursBody | None = None
    clear_quiet_hours: bool = False
    language: Literal["en", "es"] | None = None
    consent: dict[ConsentName, bool] | None = None


class PreferencesView(msgspec.Struct, frozen=True, kw_only=True):
    channels: dict[str, list[str]]  # what each category may use now (chosen and consented)
    consent: dict[str, bool]
    marketing_consent: bool
    quiet_hours: QuietHoursBody | None
    language: str | None
    opted_out: list[str]


class DeviceBody(Body, frozen=True, kw_only=True):
    endpoint: Url
    p256dh: Key
    auth: Key


class DeliveryView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    patient_id: UUID
    appointment_id: UUID | None
    kind: str
    category: str
    channel: str
    status: str
    reason: str | None
    due_at: datetime
    start_at: datetime | None
    provider_message_id: str | None
    attempts: int
    fallback_of: UUID | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


def delivery_view(d: Delivery) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        patient_id=d.patient_id,
        appointment_id=d.appointment_id,
        kind=d.kind,
        category=d.category,
        channel=d.channel,
        status=d.status,
        reason=d.reason,
        due_at=d.due_at,
        start_at=d.start_at,
        provider_message_id=d.provider_message_id,
        attempts=d.attempts,
        fallback_of=d.fallback_of,
        created_at=d.created_at,
        updated_at=d.updated_at,
        sent_at=d.sent_at,
    )


def services_of(notifications: NotificationServices | None) -> NotificationServices:
    if notifications is None:
        raise ConflictError("notifications are not configured on this server")
    return notifications


def own_or_staff(actor: Actor, patient_id: UUID, *, auditors: bool = False) -> None:
    if may_manage(actor, patient_id) or (auditors and actor.role is Role.AUDITOR):
        return
    raise NotFoundError(f"patient {patient_id} not found")


def patient_reads(
    notifications: NotificationServices | None,
    actor: Actor,
    access: Access,
    patient_id: UUID,
    *,
    auditors: bool = False,
) -> NotificationServices:
    """The services for a read of the patient's notifications, noted for the read audit (a
    refusal too), once the actor may read them."""
    access.saw(patients=[patient_id])
    found = services_of(notifications)
    own_or_staff(actor, patient_id, auditors=auditors)
    return found


class NotificationController(Controller):
    path = "/v1/patients/{patient_id:uuid}/notifications"
    tags = ["notifications"]

    @audits_reads("ContactPreferences", "read")
    @get(
        "/preferences",
        sync_to_thread=True,
        dependencies=READS,
        summary="The patient's contact preferences and consent, as they apply now",
        **documented("getContactPreferences", *FOUND_OR_NOT),
    )
    def preferences(
        self,
        scheduling: Injected[Scheduling],
        actor: Injected[Actor],
        access: Injected[Access],
        position: Injected[MinPosition],
        patient_id: FromPath[UUID],
    ) -> PreferencesView:
        access.saw(patients=[patient_id])
        effective = scheduling.contact_preferences(patient_id, actor)
        quiet = effective.quiet
        return PreferencesView(
            channels={
                c.value: [ch.value for ch in effective.allowed(c)] for c in effective.channels
            },
            consent={c.value: given for c, given in effective.consent.items()},
            marketing_consent=effective.marketing_consent,
            quiet_hours=None
            if quiet is None
            else QuietHoursBody(
                start=quiet.start.strftime("%H:%M"), end=quiet.end.strftime("%H:%M")
            ),
            language=effective.language,
            opted_out=sorted(c.value for c in effective.opted_out),
        )

    @post(
        "/preferences",
        status_code=200,
        sync_to_thread=True,
        summary="Change contact preferences and consent (the patient, or staff)",
        dto=StrictBody[PreferencesBody],
        return_dto=None,
        **documented("updateContactPreferences", *COMMAND),
    )
    def update_preferences(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        patient_id: FromPath[UUID],
        data: JSONBody[PreferencesBody],
    ) -> CommandResult:
        command = UpdateContactPreferences(
            patient_id=patient_id,
            channels=data.channels,
            quiet_hours=data.quiet_hours,
            clear_quiet_hours=data.clear_quiet_hours,
            language=data.language,
            consent=data.consent,
        )
        return scheduling.update_contact_preferences(command, context)

    @post(
        "/devices",
        status_code=201,
        sync_to_thread=True,
        summary="Register a device's web push subscription",
        dto=StrictBody[DeviceBody],
        return_dto=None,
        **documented("registerPushDevice", *COMMAND),
    )
    def register_device(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        patient_id: FromPath[UUID],
        data: JSONBody[DeviceBody],
    ) -> CommandResult:
        command = RegisterPushDevice(
            patient_id=patient_id, endpoint=data.endpoint, p256dh=data.p256dh, auth=data.auth
        )
        return scheduling.register_push_device(command, context)

    @delete(
        "/devices/{device_id:uuid}",
        status_code=204,
        sync_to_thread=True,
        summary="Remove a device's push subscription",
        **documented("removePushDevice", *COMMAND),
    )
    def remove_device(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        patient_id: FromPath[UUID],
        device_id: FromPath[UUID],
    ) -> None:
        command = RemovePushDevice(patient_id=patient_id, device_id=device_id)
        scheduling.remove_push_device(command, context)

    @audits_reads("CommunicationRequest", "query")
    @get(
        "/deliveries",
        sync_to_thread=True,
        dependencies=READS,
        summary="Every message's delivery record for the patient (staff, auditors, the patient)",
        **documented("listPatientDeliveries", *QUERY, *FOUND_OR_NOT, 409),
    )
    def deliveries(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        access: Injected[Access],
        position: Injected[MinPosition],
        patient_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[DeliveryView]:
        found = patient_reads(notifications, actor, access, patient_id, auditors=True)
        return [delivery_view(d) for d in found.deliveries.for_patient(patient_id, limit, offset)]
