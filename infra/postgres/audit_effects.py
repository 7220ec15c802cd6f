"""The SQL behind the side effects explain lists (projections/audit/effects.py): the sealed
events of an aggregate after a request's last event on its subject, up to the subject's next
change by another request; and their stored states, for the plain fields a source reads."""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql

# Appended to the trail's event query (audit_events e, its seal and subject).
FOLLOWING = """
WHERE e.aggregate_id = %(aggregate_id)s AND e.topic = ANY(%(topics)s) AND e.position > %(after)s
  AND e.position < coalesce((
      SELECT min(n.position) FROM audit_events n
      WHERE n.aggregate_id = %(subject_id)s AND n.position > %(after)s
        AND n.topic = ANY(%(until_topics)s)
        AND n.correlation_id IS DISTINCT FROM %(correlation_id)s), 9223372036854775807)
ORDER BY e.position
"""


def stored_states(events_table: sql.Identifier) -> sql.Composed:
    """(position, stored state) of the positions `%(at)s`."""
    return sql.SQL(
        "SELECT notification_id, state FROM {} WHERE notification_id = ANY(%(at)s)"
    ).format(events_table)


def fields_of(state: Any) -> dict[str, Any]:
    """A stored state's top-level fields (the JSON the event store holds), or none."""
    if state is None:
        return {}
    try:
        found = json.loads(bytes(state))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
