"""Patient measures (issue 14); definitions also in docs/analytics.md. A visit is an appointment
now completed, placed at its (current) start; only ids and times are used, never anything
about who the patient is.

- ``seen``: patients with a visit in the period.
- ``new``: seen patients whose first visit ever is in the period; ``returning``: seen patients
  with a visit before it (new + returning = seen).
- ``active``: patients with an appointment in the period that was booked and not cancelled
  (booked, confirmed, checked in, in progress, completed or no-show).
- ``retained``: seen patients with another visit within ``retention_days`` after their first
  visit in the period; retention rate = retained / seen, null when nobody was seen.
  ``retention_window_ends`` is the period's end plus the window: before that moment the rate
  can still grow.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

MAX_RETENTION_DAYS = 730


class PatientCounts(msgspec.Struct, frozen=True, kw_only=True):
    seen: int
    new: int
    returning: int
    active: int
    retained: int


class PatientFigures(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    provider_id: UUID | None
    retention_days: int
    retention_window_ends: datetime
    seen: int
    new: int
    returning: int
    active: int
    retained: int
    retention_rate: Decimal | None
