"""Patient measures over the analytics model's appointment facts (ids and times only). Defined
in projections/patient_queries.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.appointment import Status
from infra.postgres.read_models.access import AccessReadModel
from projections.analytics_queries import ratio
from projections.patient_queries import PatientCounts, PatientFigures

PATIENTS = """
WITH visits AS (
    SELECT patient_id, start_at FROM an_appointments
     WHERE status = %(completed)s
       AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)
), seen AS (
    SELECT patient_id, min(start_at) AS first_in_period FROM visits
     WHERE start_at >= %(from)s AND start_at < %(to)s
     GROUP BY patient_id
), firsts AS (
    SELECT patient_id, min(start_at) AS first_ever FROM visits
     WHERE patient_id IN (SELECT patient_id FROM seen)
     GROUP BY patient_id
)
SELECT count(*) AS seen,
       count(*) FILTER (WHERE f.first_ever >= %(from)s) AS new,
       count(*) FILTER (WHERE f.first_ever < %(from)s) AS returning,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM visits v
            WHERE v.patient_id = s.patient_id
              AND v.start_at > s.first_in_period
              AND v.start_at <= s.first_in_period + %(window)s
       )) AS retained,
       (SELECT count(DISTINCT patient_id) FROM an_appointments
         WHERE booked_at IS NOT NULL AND status <> %(cancelled)s
           AND start_at >= %(from)s AND start_at < %(to)s
           AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)
       ) AS active
  FROM seen s JOIN firsts f USING (patient_id)
"""


class PatientReadModel(AccessReadModel):
    def patients(
        self,
        start_from: datetime,
        start_to: datetime,
        retention_days: int,
        provider_id: UUID | None = None,
    ) -> PatientFigures:
        window = timedelta(days=retention_days)
        [row] = self._rows(
            PATIENTS,
            {
                "from": start_from,
                "to": start_to,
                "window": window,
                "provider_id": provider_id,
                "completed": Status.COMPLETED.value,
                "cancelled": Status.CANCELLED.value,
            },
        )
        counts = PatientCounts(**row)
        return PatientFigures(
            start_from=start_from,
            start_to=start_to,
            provider_id=provider_id,
            retention_days=retention_days,
            retention_window_ends=start_to + window,
            seen=counts.seen,
            new=counts.new,
            returning=counts.returning,
            active=counts.active,
            retained=counts.retained,
            retention_rate=ratio(counts.retained, counts.seen),
        )
