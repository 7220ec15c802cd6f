"""Ports the applications depend on; adapters live in infra/ (and fakes in tests/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


@dataclass(frozen=True, slots=True)
class Channels:
    """The ways a notification leaves, chosen once by settings in the composition root: the real
    adapters, or in dev mode the recording ones. `sms` carries SMS and WhatsApp alike (the
    message's `channel` says which); in-app messages never leave the database, so they have no
    sender."""

    sms: SmsSender
    email: EmailSender
    push: PushSender
    # Channels the clinic does not use (SLOTWISE_CHANNELS_ENABLED): their deliveries are skipped
    # (`channel_disabled`) and fall back as a permanent failure would (SMS → email → in-app).
    disabled: frozenset[str] = frozenset()


class SignedRequests(Protocol):
    """Verifies a provider's webhook signature (Twilio's `X-Twilio-Signature` over the public URL
    and the form parameters)."""

    def valid(self, url: str, params: Mapping[str, str], signature: str) -> bool: ...


class SendQueue(Protocol):
    """Hands one due delivery to a send job (dramatiq on Redis in production; in-process in
    tests). Enqueuing the same id twice must be harmless: the job itself is idempotent."""

    def enqueue(self, delivery_id: UUID) -> None: ...


# --- Video visits (issue 13): one port, adapters in infra/livekit, infra/twilio, infra/video. -----
# Synchronous like the other ports: its callers (the room policy's worker, the API's join route,
# which runs handlers in threads) are synchronous, and Twilio's SDK is too; the LiveKit adapter
# runs the async `livekit-api` SDK on an event loop of its own.


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """A room to open. `name` is derived from the appointment id (never personal data), so
    opening twice finds the same room. `empty_timeout` keeps an empty room (the wait for the
    patient), `departure_timeout` keeps it after the last participant left (a dropped call)."""

    name: str
    empty_timeout: timedelta
    departure_timeout: timedelta
    max_participants: int


@dataclass(frozen=True, slots=True)
class OpenedRoom:
    """The provider's handle of an open room: its name and its own id (a LiveKit room sid, a
    Twilio `RM...` sid)."""

    name: str
    provider_room_id: str | None


@dataclass(frozen=True, slots=True)
class JoinGrant:
    """Who may join which room, until when. `identity` names a role and an id
    (`patient:<uuid>`), never a person's name; `host` grants admitting, muting and removing
    others (where the provider supports it)."""

    room: str
    identity: str
    host: bool
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class JoinToken:
    token: str
    expires_at: datetime
    server_url: str | None  # where the client connects (LiveKit's URL; Twilio's SDK knows)


VideoEventKind = Literal["participant_joined", "participant_left", "room_finished"]
VIDEO_EVENT_KINDS: tuple[VideoEventKind, ...] = (
    "participant_joined",
    "participant_left",
    "room_finished",
)


def video_event_kind(name: str) -> VideoEventKind | None:
    """The kind named `name` (LiveKit's webhook names are these), or None for any other."""
    return next((kind for kind in VIDEO_EVENT_KINDS if kind == name), None)


@dataclass(frozen=True, slots=True)
class VideoEvent:
    """A provider's webhook as the product reads it. `event_id` identifies the delivery for
    deduplication (LiveKit's event id; Twilio's room sid and sequence number)."""

    event_id: str
    kind: VideoEventKind
    room: str
    at: datetime
    identity: str | None = None
    disconnect_reason: str | None = None


class WebhookRejectedError(Exception):
    """A webhook whose signature, body or shape did not verify. The message names no value of
    the request."""


class VideoRooms(Protocol):
    """A video provider's rooms. Every call is idempotent: opening an open room returns it,
    closing a closed (or never opened) room does nothing."""

    provider: str  # "livekit", "twilio", "loopback": recorded with the room

    def open(self, spec: RoomSpec) -> OpenedRoom: ...

    def close(self, name: str) -> None: ...

    def join_token(self, grant: JoinGrant, now: datetime) -> JoinToken:
        """A token for one participant, minted now, valid until `grant.expires_at`."""
        ...

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> VideoEvent | None:
        """Verify a webhook (its raw body and headers) and read it; None for an event the
        product does not record (track published, recording progress...). Raises
        `WebhookRejectedError` for a forged, altered or malformed one."""
        ...

    def start_recording(self, name: str) -> str | None:
        """Record the open room `name` (everyone in it); a recording already running is kept,
        so starting twice is harmless. The provider's id of the recording, if it has one.
        Called only by the recording policy, once the patient's consent is recorded."""
        ...

    def stop_recording(self, name: str) -> None:
        """Stop every recording of room `name`; nothing to stop (or no such room) is fine."""
        ...
