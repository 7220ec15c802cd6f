"""Staff bulk notices (issue 10): a message to every patient booked with a provider on one day
(the provider's zone), at most SLOTWISE_BULK_NOTICES_PER_HOUR per provider (429 past it). It
is planned like any notice: the send job checks each patient's consent and quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, JSONBody

from api.controllers.notifications import services_of
from api.deps import Injected, NotificationServices
from api.openapi import COMMAND, documented
from api.schemas import Body
from api.strict import StrictBody
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.errors import ConflictError, ForbiddenError
from domain.provider import Provider


class NoticeBody(Body, frozen=True, kw_only=True):
    day: date


class NoticeSent(msgspec.Struct, frozen=True, kw_only=True):
    notice_id: UUID
    recipients: int


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


class BulkNoticeController(Controller):
    path = "/v1/providers/{provider_id:uuid}/notices"
    tags = ["notifications"]

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Tell every patient booked with the provider on a day (staff; rate limited)",
        dto=StrictBody[NoticeBody],
        return_dto=None,
        **documented("sendBulkNotice", *COMMAND),
    )
    def send(
        self,
        notifications: Injected[NotificationServices | None],
        scheduling: Injected[Scheduling],
        actor: Injected[Actor],
        clock: Injected[Clock],
        provider_id: FromPath[UUID],
        data: JSONBody[NoticeBody],
    ) -> NoticeSent:
        if actor.role is not Role.STAFF:
            raise ForbiddenError("bulk notices are for staff")
        found = services_of(notifications)
        if found.bulk is None:
            raise ConflictError("bulk notices are not configured on this server")
        provider = scheduling.load(Provider, provider_id, "provider")
        window = day_window(data.day, ZoneInfo(provider.time_zone))
        sent = found.bulk.send(provider_id, data.day, window, actor.subject, clock.now())
        if sent is None:
            raise TooManyRequestsException(
                "too many bulk notices for this provider; retry later",
                headers={"Retry-After": "3600"},
            )
        return NoticeSent(notice_id=sent[0], recipients=sent[1])
