"""Notifications (issue 10): Twilio's status callbacks and inbound messages (public, verified by
`X-Twilio-Signature` against the configured public URL: 403 and nothing changed otherwise), the
delivery records of an appointment (staff, auditors), and dev mode's outbox (staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog
from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody

from api.controllers.notifications import READS, DeliveryView, delivery_view, services_of
from api.deps import Injected, MinPosition, NotificationServices
from api.openapi import FOUND_OR_NOT, GUARDED, documented
from api.read_audit import audits_reads
from commands.context import CommandContext
from commands.notifications.messages import RecordOptOut
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.errors import ConflictError, ForbiddenError, NotFoundError
from domain.notification import recipient_digest
from projections.audit.access import Access

log = structlog.stdlib.get_logger("slotwise.notifications")
WEBHOOK_ACTOR = Actor(UUID("00000000-0000-4000-8000-00000000a0e2"), Role.SYSTEM)
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
Form = URLEncodedBody[dict[str, str]]


class OutboxEntryView(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    channel: str
    recipient: str
    subject: str | None
    body: str
    recorded_at: datetime


def _verified(found: NotificationServices, path: str, form: dict[str, str], request: Any) -> None:
    signature = request.headers.get("x-twilio-signature", "")
    url = found.public_base_url.rstrip("/") + path
    if found.signatures is None or not found.signatures.valid(url, form, signature):
        raise ForbiddenError("the request's signature does not verify")


def _opt(body: str, opt_out_type: str) -> bool | None:
    """True: opted back in; False: opted out; None: neither."""
    kind = opt_out_type.strip().upper()
    word = body.strip().upper()
    if kind == "STOP" or (not kind and word in STOP_WORDS):
        return False
    if kind == "START" or (not kind and word in START_WORDS):
        return True
    return None


class TwilioWebhookController(Controller):
    path = "/v1/notifications/twilio"
    tags = ["notifications"]

    @post(
        "/status",
        status_code=204,
        sync_to_thread=True,
        summary="Twilio's message status callbacks (signed; no bearer token)",
        security=[],
        **documented("receiveTwilioStatus", *GUARDED, 409),
    )
    def status(
        self,
        notifications: Injected[NotificationServices | None],
        clock: Injected[Clock],
        request: Request[Any, Any, Any],
        data: Form,
    ) -> None:
        """Each (message SID, status) once; a status never moves a delivery backwards."""
        found = services_of(notifications)
        _verified(found, "/v1/notifications/twilio/status", data, request)
        sid, status = data.get("MessageSid", ""), data.get("MessageStatus", "")
        if sid and status:
            found.callbacks.callback(sid, status.lower(), data.get("ErrorCode"), clock.now())

    @post(
        "/inbound",
        status_code=204,
        sync_to_thread=True,
        summary="Inbound SMS and WhatsApp messages: STOP and START (signed; no bearer token)",
        security=[],
        **documented("receiveTwilioInbound", *GUARDED, 409),
    )
    def inbound(
        self,
        notifications: Injected[NotificationServices | None],
        scheduling: Injected[Scheduling],
        request: Request[Any, Any, Any],
        data: Form,
    ) -> None:
        found = services_of(notifications)
        _verified(found, "/v1/notifications/twilio/inbound", data, request)
        given = _opt(data.get("Body", ""), data.get("OptOutType", ""))
        sender = data.get("From", "")
        if given is None or not sender:
            return
        patient_id = found.recipients.patient_of_recipient(
            recipient_digest(found.recipient_key, sender)
        )
        if patient_id is None:
            log.info("inbound opt-out from an address never sent to")
            return
        command = RecordOptOut(
            patient_id=patient_id,
            channel="whatsapp" if sender.startswith("whatsapp:") else "sms",
            given=given,
            source="inbound_start" if given else "inbound_stop",
        )
        try:
            scheduling.record_opt_out(command, CommandContext(WEBHOOK_ACTOR))
        except (NotFoundError, ConflictError) as refused:
            log.info("inbound opt-out not recorded", refused=type(refused).__name__)


class DeliveryRecordsController(Controller):
    path = "/v1"
    tags = ["notifications"]

    @audits_reads("CommunicationRequest", "query")
    @get(
        "/appointments/{appointment_id:uuid}/notifications",
        sync_to_thread=True,
        dependencies=READS,
        summary="Every message's delivery record for an appointment (staff, auditors)",
        **documented("listAppointmentDeliveries", *FOUND_OR_NOT, 409),
    )
    def for_appointment(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        access: Injected[Access],
        position: Injected[MinPosition],
        appointment_id: FromPath[UUID],
    ) -> list[DeliveryView]:
        found = services_of(notifications)
        if actor.role not in (Role.STAFF, Role.AUDITOR):
            raise NotFoundError(f"appointment {appointment_id} not found")
        records = found.deliveries.for_appointment(appointment_id)
        access.saw(patients=sorted({d.patient_id for d in records}))
        return [delivery_view(d) for d in records]

    @get(
        "/dev/outbox",
        sync_to_thread=True,
        dependencies=READS,
        summary="What dev mode's recording channels would have sent (staff, dev mode only)",
        **documented("listDevOutbox", *FOUND_OR_NOT),
    )
    def outbox(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
    ) -> list[OutboxEntryView]:
        if notifications is None or notifications.outbox is None or actor.role is not Role.STAFF:
            raise NotFoundError("no outbox here")
        return [
            OutboxEntryView(
                id=e.id,
                channel=e.channel,
                recipient=e.recipient,
                subject=e.subject,
                body=e.body,
                recorded_at=e.recorded_at,
            )
            for e in notifications.outbox.recent(100)
        ]
