"""Delivery records (issue 10): one per message and channel, with a state machine whose
terminal states never regress, and the stores the scheduler, the send jobs, the callbacks and
the queries use (adapters: infra/postgres/notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

# planned → queued → sending → sent → delivered | undelivered | failed; skipped from any
# state before sent. A later state never goes back to an earlier one.
RANK = {
    "planned": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "skipped": 4,
}
TERMINAL = frozenset(s for s, rank in RANK.items() if rank == 4)
# Twilio's statuses, as the callbacks report them, mapped onto ours.
PROVIDER_STATUSES = {
    "accepted": "sending",
    "queued": "sending",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}


def may_move(current: str, wanted: str) -> bool:
    """Whether a delivery in `current` may move to `wanted`: forward only, never out of a
    terminal state (a late `sent` after `delivered` changes nothing)."""
    return current not in TERMINAL and RANK[wanted] > RANK[current]


@dataclass(frozen=True)
class Delivery:
    id: UUID
    dedupe_key: str
    patient_id: UUID
    appointment_id: UUID | None
    kind: str
    category: str
    channel: str
    start_at: datetime | None
    appointment_version: int | None
    due_at: datetime
    deadline: datetime | None
    status: str
    reason: str | None
    provider_message_id: str | None
    attempts: int
    fallback_of: UUID | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class InboxItem:
    id: UUID
    category: str
    kind: str
    appointment_id: UUID | None
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class DeliveryStore(Protocol):
    def claim_due(self, now: datetime, limit: int) -> list[UUID]:
        """Move up to `limit` planned rows due by `now` to queued and return them; safe with
        several schedulers at once (each row is claimed by one)."""
        ...

    def stuck(self, older_than: datetime, limit: int) -> list[UUID]:
        """Queued or sending rows last handed out before `older_than` (a lost enqueue, a
        killed worker), stamped again so another scheduler does not take them too."""
        ...

    def get(self, delivery_id: UUID) -> Delivery | None: ...

    def begin(self, delivery_id: UUID) -> Delivery | None:
        """Record an attempt (queued or sending → sending) and hold the delivery for a lease,
        before the provider is called; None when it is past sending (sent, terminal), held by
        another job, or unknown."""
        ...

    def release(self, delivery_id: UUID) -> None:
        """End the lease early (a transient failure: the retry may take it at once)."""
        ...

    def move(
        self,
        delivery_id: UUID,
        status: str,
        reason: str | None = None,
        provider_message_id: str | None = None,
    ) -> bool:
        """Move forward to `status` (see `may_move`); False when that would regress."""
        ...

    def note_recipient(self, delivery_id: UUID, digest: str) -> None:
        """The keyed digest of the address about to be sent to (inbound STOP finds the
        patient by it)."""
        ...

    def defer(self, delivery_id: UUID, due_at: datetime) -> None:
        """Back to planned, due at `due_at` (the policy has not caught up yet)."""
        ...

    def fallback(self, original: Delivery, channel: str) -> UUID | None:
        """A queued delivery of the same message on `channel`, once; None if it exists."""
        ...

    def write_inbox(self, delivery: Delivery, title: str, body: str, link: str | None) -> None:
        """The in-app copy, once per delivery."""
        ...

    def callback(
        self, provider_message_id: str, status: str, error_code: str | None, at: datetime
    ) -> Delivery | None:
        """A provider's status report, once per (provider id, status); returns the delivery
        it moved (None: unknown id, a duplicate, or a regression)."""
        ...


class DeliveryQueries(Protocol):
    def for_patient(self, patient_id: UUID, limit: int, offset: int) -> list[Delivery]: ...

    def for_appointment(self, appointment_id: UUID) -> list[Delivery]: ...


class Inbox(Protocol):
    def items(
        self, patient_id: UUID, unread: bool, category: str | None, limit: int, offset: int
    ) -> list[InboxItem]: ...

    def unread_count(self, patient_id: UUID) -> int: ...

    def mark_read(self, patient_id: UUID, item_id: UUID, at: datetime) -> bool:
        """False when the item is not the patient's (or does not exist)."""
        ...

    def mark_all_read(self, patient_id: UUID, at: datetime) -> int: ...


@dataclass(frozen=True)
class OutboxEntry:
    """What dev mode's recording channels took instead of sending."""

    id: int
    key: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    recorded_at: datetime


class OutboxReads(Protocol):
    def recent(self, limit: int = 50) -> list[OutboxEntry]: ...


class Recipients(Protocol):
    def patient_of_recipient(self, digest: str) -> UUID | None:
        """The patient last sent a message at the address with this digest."""
        ...


class BulkNotices(Protocol):
    def send(
        self,
        provider_id: UUID,
        day: date,
        window: tuple[datetime, datetime],
        sent_by: UUID,
        now: datetime,
    ) -> tuple[UUID, int] | None:
        """Plan a notice to every patient booked with the provider in `window` (that `day` in
        the provider's zone); the notice's id and how many patients, or None over the limit."""
        ...
