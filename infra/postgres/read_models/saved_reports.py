"""Saved report definitions over the analytics model (migration 0082)."""

from __future__ import annotations

from uuid import UUID

from infra.postgres.read_models.patients import PatientReadModel
from projections.report_queries import SavedReportView

COLUMNS = (
    "SELECT id, name, measure, group_by, provider_id, specialty, start_from, start_to, saved_at"
    " FROM an_saved_reports WHERE owner_id = %(owner)s"
)


class SavedReportReadModel(PatientReadModel):
    def saved_reports(self, owner_id: UUID) -> list[SavedReportView]:
        rows = self._rows(COLUMNS + " ORDER BY saved_at, id", {"owner": owner_id})
        return [SavedReportView(**r) for r in rows]

    def saved_report(self, report_id: UUID, owner_id: UUID) -> SavedReportView | None:
        rows = self._rows(COLUMNS + " AND id = %(id)s", {"owner": owner_id, "id": report_id})
        return SavedReportView(**rows[0]) if rows else None
