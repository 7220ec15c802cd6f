"""The offer policy's queries over the waitlist projection's tables (and, for the nearest free
seat of a displaced patient, the scheduling projection's slots). They only nominate: the
aggregates decide inside each command."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from infra.postgres.tracking import TrackedReadModel, tracking_table
from projections.waitlist_work import Booking, Candidate, Opening

OPENINGS = """
SELECT o.id, o.slot_id, o.kind, o.freed_at, s.provider_id, s.start_at, s.appointment_types,
       COALESCE(p.specializations, '{}') AS specializations
  FROM waitlist_openings o
  JOIN waitlist_slots s ON s.slot_id = o.slot_id
  LEFT JOIN waitlist_providers p ON p.provider_id = s.provider_id
 WHERE o.resolved_at IS NULL
 ORDER BY s.start_at, o.freed_at, o.id
 LIMIT %(limit)s
"""
CANDIDATES = """
SELECT e.id AS entry_id, e.tier, e.joined_at FROM rm_waitlist_entries e
 WHERE (e.status = 'waiting'
        OR (e.status = 'declined' AND (e.cooldown_until IS NULL OR e.cooldown_until <= %(now)s)))
   AND e.appointment_type = ANY(%(types)s)
   AND (e.provider_id = %(provider)s
        OR (e.provider_id IS NULL AND e.specialty = ANY(%(specializations)s)))
   AND e.earliest <= (%(start)s AT TIME ZONE e.time_zone)::date
   AND (e.deadline IS NULL OR e.deadline >= (%(start)s AT TIME ZONE e.time_zone)::date)
   AND (e.moves_start IS NULL OR e.moves_start > %(start)s)
   AND NOT EXISTS (SELECT 1 FROM rm_waitlist_offers o
                    WHERE o.entry_id = e.id AND o.slot_id = %(slot)s)
 ORDER BY e.tier, e.joined_at, e.id
 LIMIT %(limit)s
"""
NEAREST = """
SELECT s.id FROM rm_slots s
 WHERE s.provider_id = %(provider)s AND s.status = 'open' AND %(type)s = ANY(s.appointment_types)
   AND s.start_at > %(after)s
   AND s.capacity > (SELECT count(*) FROM rm_slot_seats a
                      WHERE a.slot_id = s.id
                        AND (a.hold_expires_at IS NULL OR a.hold_expires_at > %(now)s))
 ORDER BY abs(extract(epoch FROM s.start_at - %(around)s)), s.start_at, s.id
 LIMIT %(limit)s
"""


class PostgresWaitlistWork(TrackedReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, tracking_table("waitlist"))

    def _execute(self, query: str, params: dict[str, Any]) -> None:
        with self._pool.connection() as conn:
            conn.execute(query, params)

    def due_offers(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        rows = self._rows(
            "SELECT entry_id, offer_id FROM rm_waitlist_offers WHERE status = 'open' "
            "AND expires_at <= %(now)s ORDER BY expires_at, offer_id LIMIT %(limit)s",
            {"now": now, "limit": limit},
        )
        return [(r["entry_id"], r["offer_id"]) for r in rows]

    def pending_openings(self, limit: int) -> list[Opening]:
        return [Opening(**row) for row in self._rows(OPENINGS, {"limit": limit})]

    def candidates(self, opening: Opening, now: datetime, limit: int) -> list[Candidate]:
        params = {
            "now": now,
            "types": opening.appointment_types,
            "provider": opening.provider_id,
            "specializations": opening.specializations,
            "start": opening.start_at,
            "slot": opening.slot_id,
            "limit": limit,
        }
        return [Candidate(**row) for row in self._rows(CANDIDATES, params)]

    def resolve_opening(self, opening_id: str, outcome: str, now: datetime) -> None:
        self._execute(
            "UPDATE waitlist_openings SET resolved_at = %(now)s, outcome = %(outcome)s "
            "WHERE id = %(id)s",
            {"now": now, "outcome": outcome, "id": opening_id},
        )

    def pending_bookings(self, limit: int) -> list[Booking]:
        rows = self._rows(
            "SELECT appointment_id, kind FROM waitlist_bookings WHERE handled_at IS NULL "
            "ORDER BY at, appointment_id, kind LIMIT %(limit)s",
            {"limit": limit},
        )
        return [Booking(**row) for row in rows]

    def handled_booking(self, booking: Booking, now: datetime) -> None:
        self._execute(
            "UPDATE waitlist_bookings SET handled_at = %(now)s "
            "WHERE appointment_id = %(id)s AND kind = %(kind)s",
            {"now": now, "id": booking.appointment_id, "kind": booking.kind},
        )

    def open_entries_of(self, patient_id: UUID) -> list[UUID]:
        rows = self._rows(
            "SELECT id FROM rm_waitlist_entries WHERE patient_id = %(p)s "
            "AND status IN ('waiting', 'offered', 'declined') ORDER BY joined_at, id",
            {"p": patient_id},
        )
        return [r["id"] for r in rows]

    def entries_accepted_with(self, appointment_id: UUID) -> list[UUID]:
        rows = self._rows(
            "SELECT id FROM rm_waitlist_entries WHERE accepted_appointment_id = %(a)s "
            "AND status = 'accepted' ORDER BY id",
            {"a": appointment_id},
        )
        return [r["id"] for r in rows]

    def open_offer_holding(self, appointment_id: UUID) -> tuple[UUID, UUID] | None:
        rows = self._rows(
            "SELECT entry_id, offer_id FROM rm_waitlist_offers WHERE appointment_id = %(a)s "
            "AND status = 'open'",
            {"a": appointment_id},
        )
        return (rows[0]["entry_id"], rows[0]["offer_id"]) if rows else None

    def past_deadline(self, now: datetime, limit: int) -> list[UUID]:
        rows = self._rows(
            "SELECT id FROM rm_waitlist_entries WHERE status IN ('waiting', 'declined') "
            "AND deadline < (%(now)s AT TIME ZONE time_zone)::date "
            "ORDER BY deadline, id LIMIT %(limit)s",
            {"now": now, "limit": limit},
        )
        return [r["id"] for r in rows]

    def pending_displaced(self, limit: int) -> list[tuple[UUID, str]]:
        rows = self._rows(
            "SELECT appointment_id, cause FROM waitlist_displaced WHERE handled_at IS NULL "
            "ORDER BY at, appointment_id LIMIT %(limit)s",
            {"limit": limit},
        )
        return [(r["appointment_id"], r["cause"]) for r in rows]

    def handled_displaced(self, appointment_id: UUID, cause: str, now: datetime) -> None:
        self._execute(
            "UPDATE waitlist_displaced SET handled_at = %(now)s "
            "WHERE appointment_id = %(id)s AND cause = %(cause)s",
            {"now": now, "id": appointment_id, "cause": cause},
        )

    def nearest_free_slots(
        self,
        provider_id: UUID,
        appointment_type: str,
        around: datetime,
        after: datetime,
        limit: int,
    ) -> list[UUID]:
        params = {
            "provider": provider_id,
            "type": appointment_type,
            "around": around,
            "after": after,
            "now": after,
            "limit": limit,
        }
        return [r["id"] for r in self._rows(NEAREST, params)]
