"""Reports over the read model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api.auth import roles
from api.deps import Injected, MinPosition, aware
from api.openapi import GUARDED, QUERY, documented
from domain.actor import Role
from domain.errors import ValidationError
from domain.timerange import TimeRange
from projections.queries import NoShowRow, SchedulingQueries


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]
    guards = [roles(Role.STAFF, Role.ANALYST, Role.AUDITOR)]

    @get(
        "/no-shows",
        sync_to_thread=True,
        summary="No-show rate per provider and period",
        **documented("getNoShowReport", *QUERY, *GUARDED),
    )
    def no_shows(
        self,
        queries: Injected[SchedulingQueries],
        position: Injected[MinPosition],
        start_from: Annotated[datetime, QueryParameter(name="from")],
        start_to: Annotated[datetime, QueryParameter(name="to")],
    ) -> list[NoShowRow]:
        period = TimeRange(aware(start_from, "from"), aware(start_to, "to"))
        if period.duration.days > 366:
            raise ValidationError("a report period may span at most 366 days")
        return queries.no_shows(period.start, period.end)
