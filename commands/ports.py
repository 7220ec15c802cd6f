"""Ports the applications depend on; adapters live in infra/ (and fakes in tests/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class KeyStore(Protocol):
    """Each data subject's data key, for crypto-shredding: their personal data is encrypted with
    it, and destroying it erases that data everywhere at once. Adapters: infra/crypto."""

    def create(self, subject: UUID) -> bytes:
        """The subject's data key, made now if they have none (idempotent). Raises
        `domain.personal.SubjectErasedError` once the subject's key was destroyed."""
        ...

    def get(self, subject: UUID) -> bytes | None:
        """The subject's data key; None when it was destroyed (or never made)."""
        ...

    def destroy(self, subject: UUID) -> None:
        """Destroy the subject's key for good (idempotent); no key is ever made for them again."""
        ...


# --- Notifications: the channels a message can leave by (issue 10). -----------------------------
# Adapters: infra/twilio (SMS, WhatsApp), infra/email (SMTP), infra/push (web push with VAPID), and
# the recording adapters dev mode uses. Each `send` is synchronous (send jobs run on dramatiq
# workers), carries an idempotency `key` that holds no personal data, and either returns what the
# provider accepted or raises `DeliveryError`.


@dataclass(frozen=True, slots=True)
class TextMessage:
    """An SMS or a WhatsApp message. `to` is E.164 (`+15551234567`); the WhatsApp adapter adds the
    `whatsapp:` prefix itself."""

    key: str
    channel: Literal["sms", "whatsapp"]
    to: str
    body: str


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """Plain text and HTML rendered from the same template."""

    key: str
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """A browser's push subscription (the Push API's `PushSubscription.toJSON()`)."""

    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True, slots=True)
class PushMessage:
    key: str
    subscription: PushSubscription
    title: str
    body: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the provider said when it took the message: its id (Twilio's message SID, the SMTP
    queue id or None) and its initial status (`queued`, `sent`, `accepted`...)."""

    provider_id: str | None
    status: str


class DeliveryError(Exception):
    """A channel refused or failed a message. `permanent` errors are never retried (invalid
    address, opted out, subscription gone); transient ones (5xx, timeouts, refused connections)
    are retried with backoff. `code` is the provider's code where it has one (Twilio `21610` =
    the recipient opted out; `gone` = a push subscription answered 404/410). The message text
    never holds personal data (no address, no body)."""

    def __init__(self, reason: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code


class SmsSender(Protocol):
    """SMS and WhatsApp (Twilio's Messages API)."""

    def send(self, message: TextMessage) -> Accepted: ...


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> Accepted: ...


class PushSender(Protocol):
    def send(self, message: PushMessage) -> Accepted: ...


class SignedRequests(Protocol):
    """Verifies a provider's webhook signature (Twilio's `X-Twilio-Signature` over the public URL
    and the form parameters)."""

    def valid(self, url: str, params: Mapping[str, str], signature: str) -> bool: ...


class SendQueue(Protocol):
    """Hands one due delivery to a send job (dramatiq on Redis in production; in-process in
    tests). Enqueuing the same id twice must be harmless: the job itself is idempotent."""

    def enqueue(self, delivery_id: UUID) -> None: ...
