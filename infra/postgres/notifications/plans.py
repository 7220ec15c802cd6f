"""The reminder policy's view: the due table made equal to each appointment's desired
reminders, the notices added once, and the policy's position, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Tracking
from psycopg import Cursor

from infra.postgres.tracking import AnnouncedTracking
from projections.notifications.plan import AppointmentPlan, Notice
from projections.notifications.policy import PlanView

INSERT = """
INSERT INTO notification_deliveries (id, dedupe_key, patient_id, appointment_id, provider_id,
    kind, category, channel, start_at, appointment_version, due_at, deadline, status, reason,
    event_id, created_at, updated_at)
VALUES (%(id)s, %(key)s, %(patient_id)s, %(appointment_id)s, %(provider_id)s, %(kind)s,
    %(category)s, %(channel)s, %(start_at)s, %(version)s, %(due_at)s, %(deadline)s, %(status)s,
    %(reason)s, %(event_id)s, now(), now())
ON CONFLICT (dedupe_key) DO UPDATE SET
    due_at = EXCLUDED.due_at, status = EXCLUDED.status, reason = EXCLUDED.reason,
    appointment_version = EXCLUDED.appointment_version, updated_at = EXCLUDED.updated_at
WHERE notification_deliveries.status = 'planned'
   OR (notification_deliveries.status = 'skipped'
       AND notification_deliveries.reason = 'quiet_hours_exhausted')
"""
# Unsent reminders of the appointment that are no longer desired: gone.
REMOVE = """
DELETE FROM notification_deliveries
WHERE appointment_id = %s AND (kind LIKE 'reminder%%' OR kind = 'check_in_open')
  AND dedupe_key <> ALL(%s)
  AND (status = 'planned' OR (status = 'skipped' AND reason = 'quiet_hours_exhausted'))
"""
PLAN = """
INSERT INTO notification_plans VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (appointment_id) DO UPDATE SET start_at = EXCLUDED.start_at,
    status = EXCLUDED.status, version = EXCLUDED.version, provider_id = EXCLUDED.provider_id
"""


def _row(curs: Cursor[Any], values: dict[str, Any], skip: str | None) -> None:
    status = "planned" if skip is None else "skipped"
    curs.execute(INSERT, {**values, "id": uuid4(), "status": status, "reason": skip})


class PostgresPlanView(AnnouncedTracking, PlanView):
    def planned_status(self, appointment_id: UUID) -> str | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT status FROM notification_plans WHERE appointment_id = %s",
                (appointment_id,),
            )
            row = curs.fetchone()
        return None if row is None else str(row["status"])

    def patient_appointments(self, patient_id: UUID) -> list[UUID]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT appointment_id FROM notification_plans WHERE patient_id = %s "
                "AND status IN ('booked', 'confirmed', 'checked_in', 'held')",
                (patient_id,),
            )
            return [row["appointment_id"] for row in curs.fetchall()]

    def reconcile(
        self, plans: Sequence[AppointmentPlan], notices: Sequence[Notice], tracking: Tracking
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for plan in plans:
                self._plan(curs, plan)
            for notice in notices:
                values = {
                    "key": notice.key,
                    "patient_id": notice.patient_id,
                    "appointment_id": notice.appointment_id,
                    "provider_id": None,
                    "kind": notice.kind,
                    "category": notice.category.value,
                    "channel": notice.channel.value,
                    "start_at": notice.start,
                    "version": None,
                    "due_at": notice.due_at,
                    "deadline": notice.deadline,
                    "event_id": notice.event_id,
                }
                _row(curs, values, notice.skip)
            self._insert_tracking(curs, tracking)

    def _plan(self, curs: Cursor[Any], plan: AppointmentPlan) -> None:
        state = plan.appointment
        curs.execute(
            PLAN,
            (
                state.appointment_id,
                state.patient_id,
                state.start,
                state.status,
                state.version,
                plan.provider_id,
            ),
        )
        curs.execute(REMOVE, (state.appointment_id, [r.key for r in plan.reminders]))
        for reminder in plan.reminders:
            values = {
                "key": reminder.key,
                "patient_id": state.patient_id,
                "appointment_id": state.appointment_id,
                "provider_id": plan.provider_id,
                "kind": reminder.kind,
                "category": reminder.category,
                "channel": reminder.channel.value,
                "start_at": reminder.start,
                "version": state.version,
                "due_at": reminder.due_at,
                "deadline": reminder.start,
                "event_id": None,
            }
            _row(curs, values, reminder.skip)
