"""The video provider's webhooks (issue 13): verified on the raw body as received, then joins,
leaves and a finished room are recorded on the visit's VideoRoom once per provider event id."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog
from litestar import Controller, Request, post
from litestar.params import FromPath, RawBody

from api.deps import Injected
from api.openapi import FOUND_OR_NOT, documented
from commands.context import CommandContext
from commands.ports import VideoRooms
from commands.scheduling import Scheduling
from commands.telehealth.messages import RecordVideoEvent
from domain.actor import Actor, Role
from domain.errors import ConflictError, NotFoundError
from domain.video_visit import appointment_of

log = structlog.stdlib.get_logger("slotwise.video")
WEBHOOK_ACTOR = Actor(UUID("00000000-0000-4000-8000-0000000f1de1"), Role.SYSTEM)


class VideoWebhookController(Controller):
    path = "/v1/video"
    tags = ["video"]

    @post(
        "/webhooks/{provider:str}",
        status_code=204,
        sync_to_thread=True,
        summary="The video provider's webhooks (verified by signature; no bearer token)",
        security=[],
        **documented("receiveVideoWebhook", 401, *FOUND_OR_NOT),
    )
    def webhook(
        self,
        scheduling: Injected[Scheduling],
        video_rooms: Injected[VideoRooms | None],
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        body: RawBody,
    ) -> None:
        """Joins and leaves are recorded once per provider event id; anything else is
        acknowledged and ignored. The raw body is verified as received."""
        rooms = video_rooms
        if rooms is None or provider != rooms.provider:
            raise NotFoundError(f"no video provider {provider!r} here")
        event = rooms.webhook(body, dict(request.headers))
        if event is None:
            return
        appointment_id = appointment_of(event.room)
        if appointment_id is None:
            log.info("video webhook for a room not ours", kind=event.kind)
            return
        command = RecordVideoEvent(
            appointment_id=appointment_id,
            event_id=event.event_id,
            kind=event.kind,
            identity=event.identity,
            at=event.at,
            disconnect_reason=event.disconnect_reason,
        )
        try:
            scheduling.record_video_event(command, CommandContext(WEBHOOK_ACTOR))
        except (NotFoundError, ConflictError) as refused:
            # A room we never opened (or an appointment gone): acknowledged, so the provider
            # does not redeliver it forever.
            log.info(
                "video webhook ignored",
                appointment_id=str(appointment_id),
                refused=type(refused).__name__,
            )
