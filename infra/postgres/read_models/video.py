"""Queries over the video projection's tables, for the room policy and the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.video_visit import room_id
from infra.postgres.tracking import TrackedReadModel, tracking_table
from projections.video_queries import NoShowCandidate, Participant, Recording, RoomPlan, VideoVisit

PLAN_COLUMNS = """appointment_id, start_at, end_at, wanted, close_reason, room_open,
    room_start_at, room_end_at"""
DUE = f"""
SELECT {PLAN_COLUMNS} FROM video_room_plans
 WHERE (wanted = 'closed' AND room_open)
    OR (wanted = 'open' AND NOT room_open
        AND start_at - %(lead)s <= %(now)s AND end_at + %(grace)s > %(now)s)
    OR (wanted = 'open' AND room_open
        AND (room_start_at IS DISTINCT FROM start_at OR room_end_at IS DISTINCT FROM end_at
             OR end_at + %(grace)s <= %(now)s))
 ORDER BY start_at
 LIMIT %(limit)s
"""  # noqa: S608 - no value is formatted in
NO_SHOW_CANDIDATES = """
SELECT p.appointment_id, p.patient_id FROM video_room_plans p
 WHERE p.wanted = 'open' AND p.start_at + %(grace)s <= %(now)s AND p.room_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM rm_video_participants v
                    WHERE v.room_id = p.room_id AND v.role = 'patient')
 ORDER BY p.start_at
 LIMIT %(limit)s
"""


class PostgresVideoQueries(TrackedReadModel):
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        super().__init__(pool, tracking_table("video"))

    def due_plans(
        self, now: datetime, lead: timedelta, grace: timedelta, limit: int
    ) -> list[RoomPlan]:
        rows = self._rows(DUE, {"now": now, "lead": lead, "grace": grace, "limit": limit})
        return [RoomPlan(**row) for row in rows]

    def visit(self, appointment_id: UUID) -> VideoVisit | None:
        rooms = self._rows(
            "SELECT * FROM rm_video_rooms WHERE appointment_id = %(id)s", {"id": appointment_id}
        )
        if not rooms:
            return None
        room = rooms[0]
        key = {"room": room_id(appointment_id)}
        people = self._rows(
            "SELECT identity, role, joins, first_joined_at, in_room_since, last_left_at, "
            "seconds_in_room, last_disconnect_reason FROM rm_video_participants "
            "WHERE room_id = %(room)s ORDER BY first_joined_at NULLS LAST, identity",
            key,
        )
        recordings = self._rows(
            "SELECT started_at, started_by, stopped_at FROM rm_video_recordings "
            "WHERE room_id = %(room)s ORDER BY started_at",
            key,
        )
        kept = {k: v for k, v in room.items() if k not in ("room_id", "version")}
        return VideoVisit(
            **kept,
            participants=[Participant(**p) for p in people],
            recordings=[Recording(**r) for r in recordings],
        )

    def no_show_candidates(
        self, now: datetime, grace: timedelta, limit: int
    ) -> list[NoShowCandidate]:
        rows = self._rows(NO_SHOW_CANDIDATES, {"now": now, "grace": grace, "limit": limit})
        return [NoShowCandidate(**r) for r in rows]
