"""Demographics of the patients seen in a period, over `an_patient_bands` (migration 0085) and
the appointment facts. Defined, with the suppression rule, in
projections/demographics_queries.py."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.appointment import Status
from infra.postgres.read_models.saved_reports import SavedReportReadModel
from projections.demographics_queries import (
    THRESHOLD,
    UNKNOWN,
    Demographics,
    Dimension,
    age_band,
    suppress,
)

SEEN_BANDS = """
SELECT b.birth_year, b.sex, b.gender, b.postal_prefix
  FROM (SELECT DISTINCT patient_id FROM an_appointments
         WHERE status = %(completed)s AND start_at >= %(from)s AND start_at < %(to)s
           AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)) s
  LEFT JOIN an_patient_bands b USING (patient_id)
"""


class DemographicsReadModel(SavedReportReadModel):
    def demographics(
        self,
        start_from: datetime,
        start_to: datetime,
        dimension: Dimension,
        provider_id: UUID | None = None,
    ) -> Demographics:
        params = {
            "from": start_from,
            "to": start_to,
            "provider_id": provider_id,
            "completed": Status.COMPLETED.value,
        }
        year = start_to.year
        counts: dict[str, int] = {}
        for row in self._rows(SEEN_BANDS, params):
            if dimension is Dimension.AGE_BAND:
                born = row["birth_year"]
                value = age_band(None if born is None else year - born)
            else:
                value = row[dimension.value] or UNKNOWN
            counts[value] = counts.get(value, 0) + 1
        cells, total_hidden = suppress(counts)
        return Demographics(
            start_from=start_from,
            start_to=start_to,
            provider_id=provider_id,
            dimension=dimension,
            threshold=THRESHOLD,
            patients=None if total_hidden else sum(counts.values()),
            total_suppressed=total_hidden,
            cells=cells,
        )
