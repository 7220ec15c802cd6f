"""Revenue over the analytics read model (migration 0080): sums per currency of the money
entries in a period, optionally grouped, beside the previous equal period. Measures are defined
in projections/revenue_queries.py."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from infra.postgres.tracking import TrackedReadModel
from projections.revenue_queries import (
    NO_MONEY,
    CurrencyRevenue,
    RevenueFigures,
    RevenueGroup,
    RevenueGrouping,
    RevenueReport,
    Tally,
    Trend,
)

SUMS = """
    coalesce(sum(amount) FILTER (WHERE entry = 'payment'), 0) AS gross,
    coalesce(sum(amount) FILTER (WHERE entry = 'refund'), 0) AS refunds,
    count(*) FILTER (WHERE entry = 'payment') AS payments,
    count(*) FILTER (WHERE entry = 'refund') AS refund_count,
    count(DISTINCT appointment_id) FILTER (WHERE entry = 'payment') AS paid_visits
  FROM an_revenue_facts
 WHERE at >= %(from)s AND at < %(to)s
   AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)
   AND (%(specialty)s::text IS NULL OR specialty = %(specialty)s::text)
"""

# Grouping → (columns, the RevenueGroup field each fills, order).
GROUPS: dict[RevenueGrouping, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    RevenueGrouping.DAY: (("local_day",), ("day",), "local_day"),
    RevenueGrouping.METHOD: (("method",), ("method",), "method"),
    RevenueGrouping.SERVICE: (("appointment_type",), ("service",), "appointment_type"),
    RevenueGrouping.PROVIDER: (
        ("provider_id", "provider_name"),
        ("provider_id", "provider_name"),
        "provider_name NULLS LAST, provider_id",
    ),
    RevenueGrouping.SPECIALTY: (("specialty",), ("specialty",), "specialty NULLS LAST"),
}


def _tally(row: dict[str, Any]) -> Tally:
    return Tally(**{field: row[field] for field in Tally.__struct_fields__})


class RevenueReadModel(TrackedReadModel):
    def _sums(self, params: dict[str, Any], group_by: RevenueGrouping | None) -> list[Any]:
        if group_by is None:
            query = sql.SQL("SELECT currency, ") + sql.SQL(SUMS) + sql.SQL(" GROUP BY currency")
            return self._rows(query, params)
        columns, _, order = GROUPS[group_by]
        keys = sql.SQL(", ").join(map(sql.Identifier, columns))
        query = (
            sql.SQL("SELECT currency, {}, ").format(keys)
            + sql.SQL(SUMS)
            + sql.SQL(" GROUP BY currency, {} ORDER BY currency, ").format(keys)
            + sql.SQL(order)
        )
        return self._rows(query, params)

    def revenue(
        self,
        start_from: datetime,
        start_to: datetime,
        group_by: RevenueGrouping | None,
        provider_id: UUID | None = None,
        specialty: str | None = None,
    ) -> RevenueReport:
        previous_from = start_from - (start_to - start_from)
        params = {"provider_id": provider_id, "specialty": specialty}
        now = {
            r["currency"]: _tally(r)
            for r in self._sums({**params, "from": start_from, "to": start_to}, None)
        }
        before = {
            r["currency"]: _tally(r)
            for r in self._sums({**params, "from": previous_from, "to": start_from}, None)
        }
        groups: dict[str, list[RevenueGroup]] = defaultdict(list)
        if group_by is not None:
            columns, fields, _ = GROUPS[group_by]
            for row in self._sums({**params, "from": start_from, "to": start_to}, group_by):
                keys = {f: row[c] for c, f in zip(columns, fields, strict=True)}
                groups[row["currency"]].append(
                    RevenueGroup(**keys, figures=RevenueFigures.of(_tally(row)))
                )
        currencies = []
        for currency in sorted(now.keys() | before.keys()):
            totals = RevenueFigures.of(now.get(currency, NO_MONEY))
            previous = RevenueFigures.of(before.get(currency, NO_MONEY))
            currencies.append(
                CurrencyRevenue(
                    currency=currency,
                    totals=totals,
                    trend=Trend.of(totals, previous),
                    groups=groups[currency],
                )
            )
        return RevenueReport(
            start_from=start_from,
            start_to=start_to,
            previous_from=previous_from,
            group_by=group_by,
            currencies=currencies,
        )
