"""The in-app inbox (issue 10): a patient's messages, newest first (unread only, by category,
paged), the unread count, mark one read and mark all read; the patient and staff."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery

from api.controllers.notifications import (
    READS,
    Limit,
    own_or_staff,
    patient_reads,
    services_of,
)
from api.deps import Injected, MinPosition, NotificationServices, Offset
from api.openapi import FOUND_OR_NOT, QUERY, documented
from api.read_audit import audits_reads
from commands.notifications.messages import CategoryName
from commands.ports import Clock
from domain.actor import Actor
from domain.errors import NotFoundError
from projections.audit.access import Access
from projections.notifications.deliveries import InboxItem


class InboxItemView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    category: str
    kind: str
    appointment_id: UUID | None
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class InboxPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[InboxItemView]
    unread_count: int


class UnreadCount(msgspec.Struct, frozen=True, kw_only=True):
    unread_count: int


class Marked(msgspec.Struct, frozen=True, kw_only=True):
    marked: int


def _item(i: InboxItem) -> InboxItemView:
    return InboxItemView(**{f: getattr(i, f) for f in InboxItemView.__struct_fields__})


class InboxController(Controller):
    path = "/v1/patients/{patient_id:uuid}/notifications/inbox"
    tags = ["notifications"]

    @audits_reads("Communication", "query")
    @get(
        "/",
        sync_to_thread=True,
        dependencies=READS,
        summary="The in-app inbox, newest first (unread only, by category, paged)",
        **documented("listInbox", *QUERY, *FOUND_OR_NOT, 409),
    )
    def inbox(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        access: Injected[Access],
        position: Injected[MinPosition],
        patient_id: FromPath[UUID],
        unread: FromQuery[bool] = False,
        category: FromQuery[CategoryName | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> InboxPage:
        found = patient_reads(notifications, actor, access, patient_id)
        items = found.inbox.items(patient_id, unread, category, limit, offset)
        return InboxPage(
            items=[_item(i) for i in items], unread_count=found.inbox.unread_count(patient_id)
        )

    @audits_reads("Communication", "read")
    @get(
        "/unread-count",
        sync_to_thread=True,
        dependencies=READS,
        summary="How many inbox messages are unread",
        **documented("countUnreadInbox", *FOUND_OR_NOT, 409),
    )
    def unread_count(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        access: Injected[Access],
        position: Injected[MinPosition],
        patient_id: FromPath[UUID],
    ) -> UnreadCount:
        found = patient_reads(notifications, actor, access, patient_id)
        return UnreadCount(unread_count=found.inbox.unread_count(patient_id))

    @post(
        "/{item_id:uuid}/read",
        status_code=204,
        sync_to_thread=True,
        summary="Mark one inbox message read (the patient)",
        **documented("markInboxRead", *FOUND_OR_NOT, 409),
    )
    def mark_read(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        clock: Injected[Clock],
        patient_id: FromPath[UUID],
        item_id: FromPath[UUID],
    ) -> None:
        found = services_of(notifications)
        own_or_staff(actor, patient_id)
        if not found.inbox.mark_read(patient_id, item_id, clock.now()):
            raise NotFoundError(f"inbox message {item_id} not found")

    @post(
        "/read-all",
        status_code=200,
        sync_to_thread=True,
        summary="Mark every inbox message read (the patient)",
        **documented("markAllInboxRead", *FOUND_OR_NOT, 409),
    )
    def mark_all_read(
        self,
        notifications: Injected[NotificationServices | None],
        actor: Injected[Actor],
        clock: Injected[Clock],
        patient_id: FromPath[UUID],
    ) -> Marked:
        found = services_of(notifications)
        own_or_staff(actor, patient_id)
        return Marked(marked=found.inbox.mark_all_read(patient_id, clock.now()))
