"""Queries over the scheduling read model, for the API. They read only read-model tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg_pool import ConnectionPool

from domain.appointment import Status
from domain.fhir_status import FHIR_STATUS
from infra.postgres.tracking import TrackedReadModel, tracking_table
from projections.queries import (
    AppointmentFilter,
    AppointmentView,
    NoShowRow,
    Page,
    ProviderSchedule,
    ScheduleSummary,
    SlotFilter,
    SlotView,
)

TRACKING_TABLE = tracking_table("scheduling")

APPOINTMENT_COLUMNS = """
    id, patient_id, provider_id, slot_id, start_at, end_at, appointment_type, status, reason,
    hold_expires_at, booked_at, confirmed_at, checked_in_at, started_at, completed_at,
    cancelled_at, no_show_at, wait_seconds, duration_seconds, late_cancellation, cancel_reason,
    overbooked, version, updated_at, series_id, recurrence_id, follows_id
"""

# Seats that count now: bookings, and holds that have not expired yet.
SLOT_SELECT = """
SELECT s.*,
       count(st.appointment_id) FILTER (WHERE st.hold_expires_at IS NULL) AS booked_seats,
       count(st.appointment_id) FILTER (WHERE st.hold_expires_at > %(now)s) AS held_seats
  FROM rm_slots s
  LEFT JOIN rm_slot_seats st ON st.slot_id = s.id
"""


def _appointment(row: dict[str, Any]) -> AppointmentView:
    return AppointmentView(
        id=row["id"],
        patient_id=row["patient_id"],
        provider_id=row["provider_id"],
        slot_id=row["slot_id"],
        start=row["start_at"],
        end=row["end_at"],
        appointment_type=row["appointment_type"],
        status=row["status"],
        fhir_status=FHIR_STATUS[Status(row["status"])],
        reason=row["reason"],
        hold_expires_at=row["hold_expires_at"],
        booked_at=row["booked_at"],
        confirmed_at=row["confirmed_at"],
        checked_in_at=row["checked_in_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        cancelled_at=row["cancelled_at"],
        no_show_at=row["no_show_at"],
        wait_seconds=row["wait_seconds"],
        duration_seconds=row["duration_seconds"],
        late_cancellation=row["late_cancellation"],
        cancel_reason=row["cancel_reason"],
        overbooked=row["overbooked"],
        version=row["version"],
        updated_at=row["updated_at"],
        series_id=row["series_id"],
        recurrence_id=row["recurrence_id"],
        follows_id=row["follows_id"],
    )


def _slot(row: dict[str, Any]) -> SlotView:
    taken = row["booked_seats"] + row["held_seats"]
    return SlotView(
        id=row["id"],
        provider_id=row["provider_id"],
        start=row["start_at"],
        end=row["end_at"],
        capacity=row["capacity"],
        overbook_allowance=row["overbook_allowance"],
        appointment_types=list(row["appointment_types"]),
        location=row["location"],
        room=row["room"],
        status=row["status"],
        booked_seats=row["booked_seats"],
        held_seats=row["held_seats"],
        free_seats=max(row["capacity"] - taken, 0) if row["status"] == "open" else 0,
        version=row["version"],
        updated_at=row["updated_at"],
    )


def _page(items: list[Any], limit: int, offset: int) -> Page[Any]:
    more = len(items) > limit
    return Page(
        items=items[:limit],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )


def appointment_conditions(wanted: AppointmentFilter) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (over rm_appointments) and its parameters for `wanted`'s filters."""
    where = ["TRUE"]
    params: dict[str, Any] = {}
    for column, value in (
        ("patient_id", wanted.patient_id),
        ("provider_id", wanted.provider_id),
    ):
        if value is not None:
            where.append(f"{column} = %({column})s")
            params[column] = value
    if wanted.statuses:
        where.append("status = ANY(%(statuses)s)")
        params["statuses"] = list(wanted.statuses)
    if wanted.start_from is not None:
        where.append("start_at >= %(start_from)s")
        params["start_from"] = wanted.start_from
    if wanted.start_to is not None:
        where.append("start_at < %(start_to)s")
        params["start_to"] = wanted.start_to
    if wanted.ends_after is not None:
        where.append("end_at > %(ends_after)s")
        params["ends_after"] = wanted.ends_after
    return " AND ".join(where), params


class PostgresSchedulingQueries(TrackedReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, TRACKING_TABLE)

    def appointment(self, appointment_id: UUID) -> AppointmentView | None:
        rows = self._rows(
            f"SELECT {APPOINTMENT_COLUMNS} FROM rm_appointments WHERE id = %(id)s",  # noqa: S608
            {"id": appointment_id},
        )
        return _appointment(rows[0]) if rows else None

    def appointments(self, wanted: AppointmentFilter, now: datetime) -> Page[AppointmentView]:
        where, params = appointment_conditions(wanted)
        params |= {"limit": wanted.limit + 1, "offset": wanted.offset}
        order = "start_at DESC, id DESC" if wanted.newest_first else "start_at, id"
        query = (
            f"SELECT {APPOINTMENT_COLUMNS} FROM rm_appointments WHERE {where} "  # noqa: S608
            f"ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
        )
        items = [_appointment(r) for r in self._rows(query, params)]
        return _page(items, wanted.limit, wanted.offset)

    def available_slots(self, wanted: SlotFilter, now: datetime) -> Page[SlotView]:
        where = ["s.status = 'open'", "s.start_at >= %(from)s", "s.start_at < %(to)s"]
        where.append("s.start_at > %(now)s")
        params: dict[str, Any] = {
            "from": wanted.start_from,
            "to": wanted.start_to,
            "now": now,
            "limit": wanted.limit + 1,
            "offset": wanted.offset,
        }
        if wanted.provider_id is not None:
            where.append("s.provider_id = %(provider_id)s")
            params["provider_id"] = wanted.provider_id
        if wanted.appointment_type is not None:
            where.append("%(type)s = ANY(s.appointment_types)")
            params["type"] = wanted.appointment_type
        query = (
            SLOT_SELECT + f" WHERE {' AND '.join(where)} GROUP BY s.id "
            "HAVING s.capacity > count(st.appointment_id) FILTER "
            "(WHERE st.hold_expires_at IS NULL OR st.hold_expires_at > %(now)s) "
            "ORDER BY s.start_at, s.id LIMIT %(limit)s OFFSET %(offset)s"
        )
        items = [_slot(r) for r in self._rows(query, params)]
        return _page(items, wanted.limit, wanted.offset)

    def schedule(
        self, provider_id: UUID, first_day: date, last_day: date, now: datetime
    ) -> ProviderSchedule | None:
        providers = self._rows(
            "SELECT time_zone FROM rm_providers WHERE id = %(id)s", {"id": provider_id}
        )
        if not providers:
            return None
        zone = ZoneInfo(providers[0]["time_zone"])
        # Days are the provider's own, so a "day" is 23 or 25 hours long across DST changes.
        start = datetime.combine(first_day, datetime.min.time(), zone)
        end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), zone)
        params = {"provider_id": provider_id, "from": start, "to": end, "now": now}
        slots = [
            _slot(r)
            for r in self._rows(
                SLOT_SELECT + " WHERE s.provider_id = %(provider_id)s AND s.start_at >= %(from)s "
                "AND s.start_at < %(to)s GROUP BY s.id ORDER BY s.start_at, s.id",
                params,
            )
        ]
        appointments = [
            _appointment(r)
            for r in self._rows(
                f"SELECT {APPOINTMENT_COLUMNS} FROM rm_appointments "  # noqa: S608
                "WHERE provider_id = %(provider_id)s AND start_at >= %(from)s "
                "AND start_at < %(to)s ORDER BY start_at, id",
                params,
            )
        ]
        summary = ScheduleSummary(
            total=len(slots),
            free=sum(1 for s in slots if s.status == "open" and s.free_seats > 0),
            booked=sum(1 for s in slots if s.status == "open" and s.free_seats == 0),
            blocked=sum(1 for s in slots if s.status == "blocked"),
            cancelled=sum(1 for s in slots if s.status == "cancelled"),
        )
        return ProviderSchedule(
            provider_id=provider_id,
            time_zone=providers[0]["time_zone"],
            first_day=first_day,
            last_day=last_day,
            slots=slots,
            appointments=appointments,
            summary=summary,
        )

    def no_shows(self, start_from: datetime, start_to: datetime) -> list[NoShowRow]:
        rows = self._rows(
            """
            SELECT a.provider_id, p.name AS provider_name,
                   count(*) FILTER (WHERE a.status IN
                       ('completed', 'in_progress', 'checked_in', 'no_show')) AS due,
                   count(*) FILTER (WHERE a.status = 'no_show') AS no_shows
              FROM rm_appointments a JOIN rm_providers p ON p.id = a.provider_id
             WHERE a.start_at >= %(from)s AND a.start_at < %(to)s
             GROUP BY a.provider_id, p.name
             ORDER BY p.name, a.provider_id
            """,
            {"from": start_from, "to": start_to},
        )
        return [
            NoShowRow(
                provider_id=r["provider_id"],
                provider_name=r["provider_name"],
                due=r["due"],
                no_shows=r["no_shows"],
                rate=(Decimal(r["no_shows"]) / Decimal(r["due"])).quantize(Decimal("0.0001"))
                if r["due"]
                else None,
            )
            for r in rows
        ]

    def expired_holds(self, now: datetime, limit: int) -> list[UUID]:
        rows = self._rows(
            "SELECT id FROM rm_appointments WHERE status = 'held' AND hold_expires_at <= %(now)s "
            "ORDER BY hold_expires_at LIMIT %(limit)s",
            {"now": now, "limit": limit},
        )
        return [r["id"] for r in rows]
