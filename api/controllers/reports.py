"""Reports over the read model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from api.auth import roles
from api.services import await_position, services
from domain.actor import Role
from domain.errors import ValidationError
from domain.timerange import TimeRange
from projections.queries import NoShowRow

Req = Request[Any, Any, Any]


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]
    guards = [roles(Role.STAFF, Role.ANALYST, Role.AUDITOR)]

    @get("/no-shows", sync_to_thread=True, summary="No-show rate per provider and period")
    def no_shows(
        self,
        request: Req,
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
        min_position: FromQuery[int | None] = None,
    ) -> list[NoShowRow]:
        period = TimeRange(start_from, start_to)
        if period.duration.days > 366:
            raise ValidationError("a report period may span at most 366 days")
        await_position(request, min_position)
        return services(request).queries.no_shows(period.start, period.end)
