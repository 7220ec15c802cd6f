"""Read audit: the access record of one API read of patient data, and the port that stores it.

A record is written for every read of a route marked as returning patient data, whatever its
outcome (a 403 or 404 refusal included), and is committed before the response is sent. It holds
ids only, never a personal value; its fields follow IHE BALP (Basic Audit Log Patterns): who
(actor id and role, token id, client address), what (route, path ids, query parameters, the
resource type and ids, the patients concerned), why (the purpose of use, as the client gave
it), when, and the outcome. Records form a log of their own, sealed like the event log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

TOPIC = "slotwise.access-record.v1"
WITHHELD = "[withheld]"
# Query parameters whose values are ids, instants, codes or numbers, recorded as given; any
# other (free text such as a search's `q`) is recorded by name only.
CLEAR_PARAMETERS = frozenset(
    {
        "patient_id", "provider_id", "appointment_id", "aggregate_id", "actor_id",
        "correlation_id", "status", "from", "to", "day", "last_day", "limit", "offset",
        "min_position", "position", "size", "version", "as_of", "as_of_position", "order",
        "kind", "group_by", "type", "patient", "practitioner", "date", "_count", "_offset",
        "threshold", "command",
    }
)  # fmt: skip
MAX_PURPOSE = 200


class AccessRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    recorded_at: datetime
    action: str  # BALP: "read" of one resource, "query" for a search or listing
    resource_type: str
    route: str  # the route template, e.g. /v1/appointments/{appointment_id:uuid}
    method: str
    path_params: dict[str, str]
    query: dict[str, list[str]]
    outcome: int  # the HTTP status answered
    patient_ids: list[UUID]
    resource_ids: list[UUID]
    actor_id: UUID | None = None
    actor_role: str | None = None
    token_id: str | None = None
    client: str | None = None
    correlation_id: str | None = None
    purpose_of_use: str | None = None

    def state(self) -> bytes:
        """The bytes stored and sealed."""
        return msgspec.json.encode(self)

    @classmethod
    def from_state(cls, state: bytes) -> AccessRecord:
        return msgspec.json.decode(state, type=cls)


def recorded_query(params: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """The query parameters as recorded: values of id-like ones, names only for the rest."""
    query: dict[str, list[str]] = {}
    for name, value in params:
        query.setdefault(name, []).append(value if name in CLEAR_PARAMETERS else WITHHELD)
    return query


def purpose(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(c for c in value if c.isprintable())[:MAX_PURPOSE].strip()
    return cleaned or None


class AccessLog(Protocol):
    """Where access records go: `append` returns once they are durably stored."""

    def append(self, records: Sequence[AccessRecord]) -> None: ...


class Visited(Protocol):
    @property
    def id(self) -> UUID: ...
    @property
    def patient_id(self) -> UUID: ...


class Access:
    """What one request read, noted by its handler for the access record: the patients and
    resources it returned (or refused, which is recorded too)."""

    def __init__(self) -> None:
        self.patient_ids: dict[UUID, None] = {}
        self.resource_ids: dict[UUID, None] = {}

    def saw(
        self, *visits: Visited, patients: Sequence[UUID] = (), resources: Sequence[UUID] = ()
    ) -> None:
        """Note `visits` (anything with an `id` and a `patient_id`, such as an appointment),
        and any further patient and resource ids."""
        for visit in visits:
            self.resource_ids[visit.id] = None
            self.patient_ids[visit.patient_id] = None
        self.patient_ids.update(dict.fromkeys(patients))
        self.resource_ids.update(dict.fromkeys(resources))

    def snapshot(self) -> tuple[list[UUID], list[UUID]]:
        return list(self.patient_ids), list(self.resource_ids)


def patients_of(mapping: Mapping[str, object]) -> list[UUID]:
    """Patient ids named by path parameters (a route such as /patients/{patient_id})."""
    found = mapping.get("patient_id")
    return [found] if isinstance(found, UUID) else []
