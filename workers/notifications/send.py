"""The send job (issue 10): one delivery, sent at most once that the record can prevent.

1. `begin` records the attempt (queued/sending → sending) before any provider is called; a
   delivery already sent or terminal is left alone, so a duplicated or retried job sends
   nothing twice.
2. The appointment is read again: a cancelled, moved or ended one is recorded as skipped
   (`stale`); one whose version moved without moving the start is deferred a few seconds, until
   the policy has re-planned it. Nothing leaves at or after its deadline (`too_late`).
3. Consent and the address are checked now, not when planned (`opted_out`, `no_consent`,
   `no_address`).
4. The provider is called with the delivery's id as idempotency key; what it accepted is
   recorded (`sent`, with its message id). A permanent refusal is `failed` and falls back
   (SMS/WhatsApp → email → in-app); Twilio's 21610 also records an opt-out. A transient error
   is raised: the job's broker retries it with backoff, and the retry finds it `sending`.

The one window left: the provider accepted, and the worker died before `sent` was recorded.
The retry finds `sending` and calls the provider again with the same key; an adapter that
honours keys (the recorder; email's Message-ID at the receiving side) makes that harmless, and
for Twilio the status callback of the first message arrives with a SID the record does not hold
(see docs/notifications.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from uuid import UUID

import structlog

from commands.notifications.templates import MessageContext, Rendered, render
from commands.ports import (
    Accepted,
    Channels,
    Clock,
    DeliveryError,
    EmailMessage,
    PushMessage,
    TextMessage,
)
from domain.appointment import ACTIVE
from domain.notification import Category, Channel, SkipReason, recipient_digest
from projections.notifications.deliveries import Delivery, DeliveryStore
from workers.notifications.reader import AppReader, Contact, provider_name

log = structlog.stdlib.get_logger("slotwise.notifications")

FALLBACK = {"sms": "email", "whatsapp": "email", "email": "in_app", "push": "in_app"}
OPT_OUT_CODE = "21610"
CATCH_UP = timedelta(seconds=5)
# Reminders never sent for an appointment no longer active; notices about a cancellation are.
ABOUT_ACTIVE = ("confirmation", "reschedule", "check_in_open", "bulk_notice")
WAITLIST_OFFER = "waitlist_offer"  # about the offer's hold: stale once it is no longer held


@dataclass(frozen=True)
class Branding:
    clinic: str
    link_base: str  # the patient app's address; the appointment's id is appended
    recipient_key: bytes = b"slotwise-recipients"  # keys the address digests


class SendJob:
    def __init__(
        self,
        reader: AppReader,
        store: DeliveryStore,
        channels: Channels,
        clock: Clock,
        branding: Branding,
        enqueue: Callable[[UUID], None],
        opt_out: Callable[[UUID, str], None],
        device_gone: Callable[[UUID, UUID], None],
    ) -> None:
        self.reader = reader
        self.store = store
        self.channels = channels
        self.clock = clock
        self.branding = branding
        self.enqueue = enqueue
        self.opt_out = opt_out
        self.device_gone = device_gone

    def run(self, delivery_id: UUID) -> str:
        """Send the delivery; returns the status it reached (for logs and tests)."""
        delivery = self.store.begin(delivery_id)
        if delivery is None:
            return "done"
        skip = self._why_not(delivery)
        if skip == "defer":
            self.store.defer(delivery.id, self.clock.now() + CATCH_UP)
            return "planned"
        contact = self.reader.contact(delivery.patient_id)
        if skip is None and contact is None:
            skip = SkipReason.NO_ADDRESS
        if skip is not None or contact is None:
            self.store.move(delivery.id, "skipped", str(skip))
            return "skipped"
        return self._send(delivery, contact)

    def _why_not(self, delivery: Delivery) -> str | None:
        now = self.clock.now()
        if delivery.deadline is not None and now >= delivery.deadline:
            return SkipReason.TOO_LATE
        if delivery.kind == WAITLIST_OFFER and delivery.appointment_id is not None:
            found = self.reader.appointment(delivery.appointment_id)
            if found is None or found[0].status != "held":
                return SkipReason.STALE  # answered, withdrawn or lapsed before it left
        if delivery.appointment_id is not None and self._about_active(delivery):
            found = self.reader.appointment(delivery.appointment_id)
            if found is None:
                return SkipReason.STALE
            state, _ = found
            if state.status not in {s.value for s in ACTIVE} or state.start != delivery.start_at:
                return SkipReason.STALE
            if delivery.appointment_version not in (None, state.version):
                return "defer"
        channel = Channel(delivery.channel)
        allowed = self.reader.audience(delivery.patient_id, Category(delivery.category))
        if channel not in allowed.channels:
            opted_out = channel in self.reader.opted_out(delivery.patient_id)
            return SkipReason.OPTED_OUT if opted_out else SkipReason.NO_CONSENT
        return None

    @staticmethod
    def _about_active(delivery: Delivery) -> bool:
        return delivery.kind.startswith("reminder_") or delivery.kind in ABOUT_ACTIVE

    def _message(self, delivery: Delivery, contact: Contact) -> Rendered:
        provider_id = None
        if delivery.appointment_id is not None:
            found = self.reader.appointment(delivery.appointment_id)
            provider_id = None if found is None else found[1]
        offer = delivery.kind == WAITLIST_OFFER
        path = "waitlist" if offer else f"appointments/{delivery.appointment_id}"
        link = f"{self.branding.link_base.rstrip('/')}/{path}"
        context = MessageContext(
            self.branding.clinic,
            provider_name(self.reader.app, provider_id),
            delivery.start_at,
            link,
            answer_by=delivery.deadline if offer else None,
        )
        return render(delivery.kind, contact.language, contact.zone, context)

    def _send(self, delivery: Delivery, contact: Contact) -> str:
        if delivery.channel in self.channels.disabled:
            self.store.move(delivery.id, "skipped", SkipReason.CHANNEL_DISABLED)
            self._fall_back(delivery)
            return "skipped"
        message = self._message(delivery, contact)
        if delivery.channel == "in_app":
            link = f"/appointments/{delivery.appointment_id}" if delivery.appointment_id else None
            link = "/waitlist" if delivery.kind == WAITLIST_OFFER else link
            self.store.write_inbox(delivery, message.subject, message.text, link)
            self.store.move(delivery.id, "delivered")
            return "delivered"
        try:
            accepted = self._call(delivery, contact, message)
        except DeliveryError as error:
            if not error.permanent:
                raise  # retried by the broker with backoff; the retry finds it `sending`
            return self.failed(delivery, error.code or "refused")
        if accepted is None:
            self.store.move(delivery.id, "skipped", SkipReason.NO_ADDRESS)
            return "skipped"
        self.store.move(delivery.id, "sent", provider_message_id=accepted.provider_id)
        log.info("notification sent", delivery_id=str(delivery.id), channel=delivery.channel)
        return "sent"

    def _call(self, delivery: Delivery, contact: Contact, message: Rendered) -> Accepted | None:
        key = str(delivery.id)
        if delivery.channel in ("sms", "whatsapp"):
            if contact.phone is None:
                return None
            digest = recipient_digest(self.branding.recipient_key, contact.phone)
            self.store.note_recipient(delivery.id, digest)
            channel: Literal["sms", "whatsapp"] = (
                "whatsapp" if delivery.channel == "whatsapp" else "sms"
            )
            return self.channels.sms.send(TextMessage(key, channel, contact.phone, message.short))
        if delivery.channel == "email":
            if contact.email is None:
                return None
            return self.channels.email.send(
                EmailMessage(key, contact.email, message.subject, message.text, message.html)
            )
        return self._push(delivery, message)

    def _push(self, delivery: Delivery, message: Rendered) -> Accepted | None:
        devices = self.reader.app.push_devices(delivery.patient_id)
        accepted: Accepted | None = None
        for device_id, subscription in devices.items():
            push = PushMessage(
                f"{delivery.id}:{device_id}", subscription, message.subject, message.short
            )
            try:
                accepted = self.channels.push.send(push)
            except DeliveryError as error:
                if error.code != "gone":
                    raise
                self.device_gone(delivery.patient_id, device_id)
        return accepted

    def failed(self, delivery: Delivery, code: str) -> str:
        """A permanent failure (or retries exhausted): record it, then fall back."""
        self.store.move(delivery.id, "failed", code)
        if code == OPT_OUT_CODE and delivery.channel in ("sms", "whatsapp"):
            self.opt_out(delivery.patient_id, delivery.channel)
        self._fall_back(delivery)
        log.info("notification failed", delivery_id=str(delivery.id), code=code)
        return "failed"

    def _fall_back(self, delivery: Delivery) -> None:
        """The next channel stands in (SMS/WhatsApp → email → in-app), sent at once."""
        following = FALLBACK.get(delivery.channel)
        if following is not None:
            stand_in = self.store.fallback(delivery, following)
            if stand_in is not None:
                self.enqueue(stand_in)
