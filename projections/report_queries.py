"""Saved reports (issue 14): their definitions as read, a run's result, and its CSV (one row per
group, or one for the totals when ungrouped; revenue: per currency)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from projections.access_queries import AccessReport
from projections.analytics_queries import AppointmentAnalytics
from projections.demographics_queries import Demographics
from projections.patient_queries import PatientFigures
from projections.performance_queries import PerformanceReport
from projections.revenue_queries import RevenueReport


class SavedReportView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    measure: str
    group_by: str | None
    provider_id: UUID | None
    specialty: str | None
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    saved_at: datetime


class ReportRun(msgspec.Struct, frozen=True, kw_only=True):
    report: SavedReportView
    appointments: AppointmentAnalytics | None = None
    revenue: RevenueReport | None = None
    performance: PerformanceReport | None = None
    access: AccessReport | None = None
    patients: PatientFigures | None = None
    demographics: Demographics | None = None


def _flat(prefix: str, value: Any) -> dict[str, Any]:
    plain = msgspec.to_builtins(value)
    return {f"{prefix}{k}": v for k, v in plain.items()} if isinstance(plain, dict) else {}


def _appointment_rows(found: AppointmentAnalytics) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for group in found.groups or []:
        keys = {k: v for k, v in msgspec.to_builtins(group).items() if k != "figures"}
        rows.append({**keys, **_flat("", group.figures)})
    return rows or [_flat("", found.totals)]


def _revenue_rows(found: RevenueReport) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for currency in found.currencies:
        for money in currency.groups:
            keys = {k: v for k, v in msgspec.to_builtins(money).items() if k != "figures"}
            rows.append({"currency": currency.currency, **keys, **_flat("", money.figures)})
        if not currency.groups:
            rows.append({"currency": currency.currency, **_flat("", currency.totals)})
    return rows


def _performance_rows(found: PerformanceReport) -> list[dict[str, Any]]:
    """One row per provider: current, previous and peer-median figures side by side."""
    return [
        {
            "provider_id": str(p.provider_id),
            "provider_name": p.provider_name,
            "specialty": p.specialty,
            "rating": None if p.rating is None else str(p.rating),
            "rating_count": p.rating_count,
            **_flat("current_", p.current),
            **_flat("previous_", p.previous),
            **_flat("peer_median_", p.peer_median),
        }
        for p in found.providers
    ]


def _demographic_rows(found: Demographics) -> list[dict[str, Any]]:
    """One row per cell and a `total` row; suppressed counts are empty."""
    total = {"patients": found.patients, "suppressed": found.total_suppressed}
    cells = [msgspec.to_builtins(cell) for cell in found.cells]
    return [
        {"dimension": found.dimension.value, **c} for c in [*cells, {"value": "total", **total}]
    ]


def rows_of(run: ReportRun) -> list[dict[str, Any]]:
    if run.appointments is not None:
        return _appointment_rows(run.appointments)
    if run.revenue is not None:
        return _revenue_rows(run.revenue)
    if run.performance is not None:
        return _performance_rows(run.performance)
    if run.access is not None:
        return [msgspec.to_builtins(row) for row in run.access.rows]
    if run.patients is not None:
        return [_flat("", run.patients)]
    if run.demographics is not None:
        return _demographic_rows(run.demographics)
    return []


def csv_of(run: ReportRun) -> str:
    """The run as CSV with a header row; empty cells for nulls."""
    rows = rows_of(run)
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or ["result"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
