"""Directory and slot queries over the scheduling read model's rows (rm_providers, rm_patients,
rm_slots and their seats): the same tables and position as the scheduling queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from psycopg_pool import ConnectionPool

from infra.postgres.read_models.scheduling import (
    SLOT_SELECT,
    TRACKING_TABLE,
    _page,
    _slot,
    appointment_conditions,
)
from infra.postgres.tracking import TrackedReadModel
from projections.directory import (
    DirectoryFilter,
    PatientView,
    ProviderView,
    SlotSearch,
)
from projections.queries import AppointmentFilter, Page, SlotView

T = TypeVar("T")

PROVIDER_SELECT = """
SELECT p.id, p.name, p.time_zone, p.specializations, p.profile->>'address' AS address,
       p.version, p.updated_at, p.rating, p.rating_count,
       (SELECT min(start_at) FROM rm_slots WHERE provider_id = p.id) AS first_slot_start,
       (SELECT max(end_at) FROM rm_slots WHERE provider_id = p.id) AS last_slot_end
  FROM rm_providers p
"""
PATIENT_SELECT = "SELECT id, name, time_zone, version, updated_at FROM rm_patients p"

# Slot.status, as domain.fhir_status.slot_fhir_status decides it from the same counts.
SLOT_FHIR_STATUS = """
CASE WHEN status <> 'open' THEN 'busy-unavailable'
     WHEN capacity > booked_seats + held_seats THEN 'free'
     WHEN held_seats > 0 THEN 'busy-tentative'
     ELSE 'busy' END
"""


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _directory_conditions(wanted: DirectoryFilter) -> tuple[str, dict[str, Any]]:
    where: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if wanted.ids:
        where.append("p.id = ANY(%(ids)s)")
        params["ids"] = list(wanted.ids)
    if wanted.name is not None:
        where.append("p.name ILIKE %(name)s")
        params["name"] = _contains(wanted.name)
    if wanted.specialty is not None:
        where.append("%(specialty)s = ANY(p.specializations)")
        params["specialty"] = wanted.specialty
    return " AND ".join(where), params


def _slot_search(wanted: SlotSearch, now: datetime) -> tuple[str, dict[str, Any]]:
    """A query over slots with their seat counts and Slot.status, filtered as `wanted` says."""
    where: list[str] = ["TRUE"]
    params: dict[str, Any] = {"now": now}
    conditions: tuple[tuple[str, str, object], ...] = (
        ("s.provider_id = %(provider_id)s", "provider_id", wanted.provider_id),
        ("s.start_at >= %(start_from)s", "start_from", wanted.start_from),
        ("s.start_at < %(start_to)s", "start_to", wanted.start_to),
        ("s.start_at > %(after)s", "after", wanted.bookable_after),
        ("%(type)s = ANY(s.appointment_types)", "type", wanted.appointment_type),
        ("s.location = %(location)s", "location", wanted.location),
        (
            "s.provider_id IN (SELECT id FROM rm_providers "
            "WHERE %(specialty)s = ANY(specializations))",
            "specialty",
            wanted.specialty,
        ),
    )
    for condition, name, value in conditions:
        if value is not None:
            where.append(condition)
            params[name] = value
    counted = SLOT_SELECT + f" WHERE {' AND '.join(where)} GROUP BY s.id"
    query = f"SELECT *, {SLOT_FHIR_STATUS} AS fhir_status FROM ({counted}) c"  # noqa: S608
    if wanted.fhir_statuses:
        query = f"SELECT * FROM ({query}) f WHERE fhir_status = ANY(%(statuses)s)"  # noqa: S608
        params["statuses"] = list(wanted.fhir_statuses)
    return query, params


def _totalled(items: list[T], wanted: DirectoryFilter | SlotSearch, total: int) -> Page[T]:
    return msgspec.structs.replace(_page(items, wanted.limit, wanted.offset), total=total)


class PostgresDirectoryQueries(TrackedReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, TRACKING_TABLE)

    def _counted(
        self, query: str, params: dict[str, Any], order: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        total = self._rows(f"SELECT count(*) AS n FROM ({query}) q", params)[0]["n"]  # noqa: S608
        paged = f"{query} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
        rows = self._rows(paged, {**params, "limit": limit + 1, "offset": offset})
        return rows, int(total)

    def provider(self, provider_id: UUID) -> ProviderView | None:
        found = self.providers(DirectoryFilter(ids=(provider_id,), limit=1))
        return found.items[0] if found.items else None

    def providers(self, wanted: DirectoryFilter) -> Page[ProviderView]:
        return self._listing(PROVIDER_SELECT, wanted, ProviderView)

    def patient(self, patient_id: UUID) -> PatientView | None:
        found = self.patients(DirectoryFilter(ids=(patient_id,), limit=1))
        return found.items[0] if found.items else None

    def patients(self, wanted: DirectoryFilter) -> Page[PatientView]:
        return self._listing(PATIENT_SELECT, wanted, PatientView)

    def _listing(self, select: str, wanted: DirectoryFilter, view: Callable[..., T]) -> Page[T]:
        where, params = _directory_conditions(wanted)
        rows, total = self._counted(
            f"{select} WHERE {where}", params, "name, id", wanted.limit, wanted.offset
        )
        return _totalled([view(**r) for r in rows], wanted, total)

    def slot(self, slot_id: UUID, now: datetime) -> SlotView | None:
        rows = self._rows(
            SLOT_SELECT + " WHERE s.id = %(id)s GROUP BY s.id", {"id": slot_id, "now": now}
        )
        return _slot(rows[0]) if rows else None

    def slots(self, wanted: SlotSearch, now: datetime) -> Page[SlotView]:
        query, params = _slot_search(wanted, now)
        rows, total = self._counted(query, params, "start_at, id", wanted.limit, wanted.offset)
        return _totalled([_slot(r) for r in rows], wanted, total)

    def appointment_total(self, wanted: AppointmentFilter) -> int:
        where, params = appointment_conditions(wanted)
        query = f"SELECT count(*) AS n FROM rm_appointments WHERE {where}"  # noqa: S608
        return int(self._rows(query, params)[0]["n"])
