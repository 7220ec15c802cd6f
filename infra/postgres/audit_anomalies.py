"""The anomaly report on PostgreSQL (docs/audit.md): actors who read more distinct patients in a
period than their role's threshold, and providers' reads of patients they have no appointment
with (any outcome, refused attempts included; "appointment" from the scheduling read model)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from projections.audit.trail import AnomalyReport, HeavyReader, OutsideCare, Thresholds

Rows = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]

# An actor's role is the one their records carry; each role's number, else the default.
HEAVY = """
SELECT a.actor_id, a.actor_role, count(DISTINCT p),
       coalesce((SELECT t.n FROM unnest(%(roles)s::text[], %(limits)s::int[]) AS t(role, n)
                 WHERE t.role = a.actor_role), %(threshold)s) AS threshold
FROM audit_access a, unnest(a.patient_ids) p
WHERE a.actor_id IS NOT NULL AND a.recorded_at >= %(start)s AND a.recorded_at < %(end)s
GROUP BY a.actor_id, a.actor_role
HAVING count(DISTINCT p) > coalesce(
    (SELECT t.n FROM unnest(%(roles)s::text[], %(limits)s::int[]) AS t(role, n)
     WHERE t.role = a.actor_role), %(threshold)s)
ORDER BY 3 DESC, 1
"""
OUTSIDE_CARE = """
SELECT a.actor_id, p, count(*), min(a.recorded_at), max(a.recorded_at)
FROM audit_access a, unnest(a.patient_ids) p
WHERE a.actor_role = 'provider'
  AND a.recorded_at >= %(start)s AND a.recorded_at < %(end)s
  AND NOT EXISTS (
      SELECT 1 FROM rm_appointments r
      WHERE r.provider_id = a.actor_id AND r.patient_id = p)
GROUP BY a.actor_id, p ORDER BY 3 DESC, 1, 2
"""


def anomaly_report(rows: Rows, start: datetime, end: datetime, limits: Thresholds) -> AnomalyReport:
    period = {
        "start": start,
        "end": end,
        "threshold": limits.default,
        "roles": list(limits.by_role),
        "limits": list(limits.by_role.values()),
    }
    return AnomalyReport(
        start=start,
        end=end,
        threshold=limits.default,
        role_thresholds=dict(limits.by_role),
        heavy_readers=[
            HeavyReader(
                actor_id=r[0], actor_role=r[1], distinct_patients=int(r[2]), threshold=int(r[3])
            )
            for r in rows(HEAVY, period)
        ],
        outside_care=[
            OutsideCare(
                actor_id=r[0], patient_id=r[1], reads=int(r[2]), first_at=r[3], last_at=r[4]
            )
            for r in rows(OUTSIDE_CARE, period)
        ],
    )
