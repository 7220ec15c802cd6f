"""Follow-up requests (issue 11): staff list the open ones per provider (a provider their own,
a patient theirs without the staff notes), book one (linked to the visit it follows) or
dismiss it. Requests are made by completing a visit with `follow_up`."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from api.deps import Injected, MinPosition, Offset, page_size
from api.openapi import COMMAND, GUARDED, QUERY, documented
from api.read_audit import audits_reads
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.follow_ups.messages import BookFollowUp, DismissFollowUp
from commands.scheduling import Scheduling
from commands.structs import CommandResult, ShortText
from domain.actor import Actor
from domain.errors import ValidationError
from projections.audit.access import Access
from projections.follow_ups import (
    FollowUpFilter,
    FollowUpQueries,
    FollowUpView,
    as_seen_by,
    scoped_follow_ups,
)
from projections.queries import Page

FollowUpStatus = Literal["open", "booked", "dismissed"]


class BookFollowUpBody(Body, frozen=True, kw_only=True):
    slot_id: UUID
    reason: ShortText = ""


class FollowUpController(Controller):
    path = "/v1/follow-ups"
    tags = ["follow-ups"]

    @audits_reads("FollowUp")
    @get(
        "/",
        sync_to_thread=True,
        summary="Follow-up requests, the soonest due first",
        **documented("listFollowUps", *QUERY, *GUARDED),
    )
    def list_follow_ups(
        self,
        follow_ups: Injected[FollowUpQueries | None],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        page_cap: Injected[int],
        access: Injected[Access],
        provider_id: FromQuery[UUID | None] = None,
        patient_id: FromQuery[UUID | None] = None,
        status: FromQuery[list[FollowUpStatus] | None] = None,
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> Page[FollowUpView]:
        """Open requests by default. Staff filter by provider or patient; a provider sees their
        own, a patient theirs (without the notes, which are for staff)."""
        if follow_ups is None:
            raise ValidationError("follow-up requests are not served here")
        wanted = FollowUpFilter(
            provider_id=provider_id,
            patient_id=patient_id,
            statuses=tuple(status or ("open",)),
            limit=page_size(limit, page_cap),
            offset=offset,
        )
        page = follow_ups.follow_ups(scoped_follow_ups(actor, wanted))
        access.saw(*page.items)
        items = [as_seen_by(actor, v) for v in page.items]
        return Page(items=items, limit=page.limit, offset=page.offset, next_offset=page.next_offset)

    @post(
        "/{follow_up_id:uuid}/book",
        status_code=201,
        sync_to_thread=True,
        summary="Book a follow-up request",
        dto=StrictBody[BookFollowUpBody],
        return_dto=None,
        **documented("bookFollowUp", *COMMAND),
    )
    def book(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        follow_up_id: FromPath[UUID],
        data: JSONBody[BookFollowUpBody],
    ) -> CommandResult:
        """The patient (with the provider who asked) or staff (with any provider); the new
        appointment's id is `id`, and it carries `follows_id`, the visit it follows."""
        cmd = BookFollowUp(follow_up_id=follow_up_id, slot_id=data.slot_id, reason=data.reason)
        return scheduling.book_follow_up(cmd, context)

    @post(
        "/{follow_up_id:uuid}/dismiss",
        status_code=200,
        sync_to_thread=True,
        summary="Dismiss an open follow-up request",
        **documented("dismissFollowUp", *COMMAND),
    )
    def dismiss(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        follow_up_id: FromPath[UUID],
    ) -> CommandResult:
        return scheduling.dismiss_follow_up(DismissFollowUp(follow_up_id=follow_up_id), context)
