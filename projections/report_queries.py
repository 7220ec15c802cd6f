"""Saved reports (issue 14): their definitions as read, a run's result, and its CSV (one row per
group, or one for the totals when ungrouped; revenue: per currency)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from projections.analytics_queries import AppointmentAnalytics
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


def _flat(prefix: str, value: Any) -> dict[str, Any]:
    plain = msgspec.to_builtins(value)
    return {f"{prefix}{k}": v for k, v in plain.items()} if isinstance(plain, dict) else {}


def rows_of(run: ReportRun) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if run.appointments is not None:
        found = run.appointments
        groups = found.groups or []
        for group in groups:
            keys = {k: v for k, v in msgspec.to_builtins(group).items() if k != "figures"}
            rows.append({**keys, **_flat("", group.figures)})
        if not groups:
            rows.append(_flat("", found.totals))
    if run.revenue is not None:
        for currency in run.revenue.currencies:
            for money in currency.groups:
                keys = {k: v for k, v in msgspec.to_builtins(money).items() if k != "figures"}
                rows.append({"currency": currency.currency, **keys, **_flat("", money.figures)})
            if not currency.groups:
                rows.append({"currency": currency.currency, **_flat("", currency.totals)})
    return rows


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
