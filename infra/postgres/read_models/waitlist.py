"""Queries over the waitlist projection's tables, for the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from infra.postgres.tracking import TrackedReadModel, tracking_table
from projections.waitlist_queries import (
    EntryView,
    OfferView,
    QueuePlace,
    Rate,
    WaitlistMetrics,
)

ENTRY_COLUMNS = """id, patient_id, provider_id, specialty, appointment_type, time_zone, earliest,
    deadline, windows, has_area, tier, joined_at, origin, moves_appointment_id, status,
    cooldown_until, accepted_appointment_id, closed_reason, version"""
OFFER_COLUMNS = """entry_id, offer_id, slot_id, provider_id, appointment_id, slot_start, offered_at,
    expires_at, status, answered_at, moved_appointment_id, rank"""
OPEN = "('waiting', 'offered', 'declined')"
QUEUE = f"""
SELECT row_number() OVER (ORDER BY e.tier, e.joined_at, e.id) AS position, e.id AS entry_id,
       e.patient_id, e.provider_id, e.specialty, e.appointment_type, e.tier, e.joined_at,
       e.status, e.cooldown_until
  FROM rm_waitlist_entries e
 WHERE e.status IN {OPEN}
   AND ((%(provider)s::uuid IS NOT NULL
         AND (e.provider_id = %(provider)s
              OR e.specialty = ANY(SELECT unnest(specializations) FROM waitlist_providers
                                    WHERE provider_id = %(provider)s)))
        OR (%(specialty)s::text IS NOT NULL AND e.specialty = %(specialty)s))
 ORDER BY position
 LIMIT %(limit)s
"""  # noqa: S608 - no value is formatted in
OFFERS = """
SELECT count(*) AS offers,
       count(*) FILTER (WHERE status = 'accepted') AS accepted,
       count(*) FILTER (WHERE status = 'declined') AS declined,
       count(*) FILTER (WHERE status = 'expired') AS expired,
       count(*) FILTER (WHERE moved_from_start IS NOT NULL AND status = 'accepted') AS moves,
       sum(extract(epoch FROM moved_from_start - slot_start) / 86400)
           FILTER (WHERE moved_from_start IS NOT NULL AND status = 'accepted') AS days_total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM moved_from_start - slot_start)
           / 86400) FILTER (WHERE moved_from_start IS NOT NULL AND status = 'accepted')
           AS days_median
  FROM rm_waitlist_offers
 WHERE provider_id = %(provider)s AND recorded_at >= %(start)s AND recorded_at < %(end)s
"""
FILLS = """
WITH freed AS (
    SELECT o.slot_id, o.freed_at FROM waitlist_openings o
      JOIN waitlist_slots s ON s.slot_id = o.slot_id
     WHERE s.provider_id = %(provider)s AND o.freed_at >= %(start)s AND o.freed_at < %(end)s
       AND o.kind IN ('released', 'unblocked') AND coalesce(o.reason, '') NOT LIKE 'waitlist %%'
), filled AS (
    SELECT f.freed_at,
           (SELECT min(x.answer_recorded_at) FROM rm_waitlist_offers x
             WHERE x.slot_id = f.slot_id AND x.status = 'accepted'
               AND x.recorded_at >= f.freed_at) AS filled_at
      FROM freed f
)
SELECT count(*) AS freed, count(filled_at) AS filled,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM filled_at - freed_at))
           AS median_seconds
  FROM filled
"""


def rate(numerator: int, denominator: int) -> Rate:
    value = None if denominator == 0 else numerator / denominator
    return Rate(value=value, numerator=numerator, denominator=denominator)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class PostgresWaitlistQueries(TrackedReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, tracking_table("waitlist"))

    def _entries(self, where: str, params: dict[str, Any]) -> list[EntryView]:
        rows = self._rows(
            f"SELECT {ENTRY_COLUMNS} FROM rm_waitlist_entries WHERE {where} "  # noqa: S608
            "ORDER BY joined_at DESC, id LIMIT %(limit)s",
            params,
        )
        ids = [r["id"] for r in rows]
        offers: dict[UUID, list[OfferView]] = {i: [] for i in ids}
        for offer in self._rows(
            f"SELECT {OFFER_COLUMNS} FROM rm_waitlist_offers WHERE entry_id = ANY(%(ids)s) "  # noqa: S608
            "ORDER BY offered_at, offer_id",
            {"ids": ids},
        ):
            offers[offer.pop("entry_id")].append(OfferView(**offer))
        return [
            EntryView(**{**r, "windows": r["windows"]["windows"]}, offers=offers[r["id"]])
            for r in rows
        ]

    def entries_of(self, patient_id: UUID, limit: int) -> list[EntryView]:
        return self._entries("patient_id = %(p)s", {"p": patient_id, "limit": limit})

    def entry(self, entry_id: UUID) -> EntryView | None:
        found = self._entries("id = %(id)s", {"id": entry_id, "limit": 1})
        return found[0] if found else None

    def queue(
        self, provider_id: UUID | None, specialty: str | None, limit: int
    ) -> list[QueuePlace]:
        params = {"provider": provider_id, "specialty": specialty, "limit": limit}
        return [QueuePlace(**row) for row in self._rows(QUEUE, params)]

    def metrics(self, provider_id: UUID, start: datetime, end: datetime) -> WaitlistMetrics:
        params = {"provider": provider_id, "start": start, "end": end}
        offers = self._rows(OFFERS, params)[0]
        fills = self._rows(FILLS, params)[0]
        answered = offers["accepted"] + offers["declined"] + offers["expired"]
        return WaitlistMetrics(
            provider_id=provider_id,
            period_from=start,
            period_to=end,
            offers=offers["offers"],
            accepted=offers["accepted"],
            declined=offers["declined"],
            expired=offers["expired"],
            acceptance_rate=rate(offers["accepted"], answered),
            freed_seats=fills["freed"],
            filled_from_waitlist=fills["filled"],
            fill_rate=rate(fills["filled"], fills["freed"]),
            median_seconds_to_fill=_float(fills["median_seconds"]),
            filled_count=fills["filled"],
            moves=offers["moves"],
            days_gained_total=_float(offers["days_total"]),
            days_gained_median=_float(offers["days_median"]),
        )
