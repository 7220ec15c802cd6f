"""FHIR search parameters: the ones each resource type supports (the CapabilityStatement lists
exactly these), how their values parse, `Prefer: handling=strict|lenient` for the others, and
the page (`_count` capped, `_offset`) with its self and next links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request
from litestar.exceptions import HTTPException

from api.deps import MAX_OFFSET, aware
from domain.errors import NotFoundError, ValidationError

# name -> FHIR search parameter type, per resource type.
SEARCH_PARAMS: dict[str, dict[str, str]] = {
    "Appointment": {
        "patient": "reference",
        "practitioner": "reference",
        "date": "date",
        "status": "token",
    },
    "Practitioner": {"_id": "token", "name": "string"},
    "PractitionerRole": {"_id": "token", "practitioner": "reference", "specialty": "token"},
    "Schedule": {"_id": "token", "actor": "reference"},
    "Slot": {"schedule": "reference", "start": "date", "status": "token", "service-type": "token"},
    "Patient": {"_id": "token", "name": "string"},
}
# Every search also takes these: the page, and the read-your-writes position.
RESULT_PARAMS = ("_count", "_offset", "min_position")
DEFAULT_COUNT = 50
PREFIXES = ("ge", "gt", "le", "lt")
HANDLING = re.compile(r"handling\s*=\s*(strict|lenient)", re.IGNORECASE)


class UnsupportedParameterError(HTTPException):
    """A search parameter this server does not support, under `Prefer: handling=strict`."""

    status_code = 400


@dataclass(frozen=True)
class SearchRequest:
    """A search's parameters that this server applies (unknown ones dropped, leniently)."""

    path: str
    params: dict[str, list[str]]
    count: int
    offset: int

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        """Every value given, comma-separated lists split (OR within a parameter)."""
        return [v for raw in self.params.get(name, []) for v in raw.split(",") if v]

    def link(self, offset: int) -> str:
        pairs = [(k, v) for k, values in self.params.items() for v in values]
        pairs += [("_count", str(self.count)), ("_offset", str(offset))]
        return f"{self.path}?{urlencode(pairs)}"

    def links(self, next_offset: int | None) -> list[dict[str, str]]:
        found = [{"relation": "self", "url": self.link(self.offset)}]
        if next_offset is not None:
            found.append({"relation": "next", "url": self.link(next_offset)})
        return found


def strict(request: Request[Any, Any, Any]) -> bool:
    """FHIR's `Prefer: handling=...`: strict refuses unknown parameters, lenient (our
    default) ignores them and leaves them out of the self link, which shows what was applied."""
    found = HANDLING.search(request.headers.get("Prefer", ""))
    return found is not None and found.group(1).lower() == "strict"


def search_request(request: Request[Any, Any, Any], resource: str, cap: int) -> SearchRequest:
    given = {name: request.query_params.getall(name) for name in request.query_params}
    return parse_search(request, given, tuple(SEARCH_PARAMS[resource]), cap, resource)


def parse_search(
    request: Request[Any, Any, Any],
    given: dict[str, list[str]],
    known: tuple[str, ...],
    cap: int,
    what: str,
) -> SearchRequest:
    """The parameters of `given` in `known` (others refused under strict handling), and the
    page: `_count` (capped at `cap`) and `_offset`."""
    unknown = sorted(set(given) - set(known) - set(RESULT_PARAMS))
    if unknown and strict(request):
        raise UnsupportedParameterError(
            detail=f"{what} does not support the parameter {unknown[0]}"
        )
    try:
        count = min(int(given.get("_count", [str(DEFAULT_COUNT)])[0]), cap)
        offset = int(given.get("_offset", ["0"])[0])
    except ValueError:
        raise ValidationError("_count and _offset must be whole numbers") from None
    if count < 1 or not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"_count must be at least 1 and _offset 0 to {MAX_OFFSET}")
    applied = {name: values for name, values in given.items() if name in known}
    return SearchRequest(request.url.path, applied, count, offset)


def reference(value: str, *kinds: str) -> UUID:
    """The id in `Kind/id` (or a bare id), for one of `kinds`."""
    kind, _, rest = value.rpartition("/")
    if kind and kind not in kinds:
        raise ValidationError(f"the reference must be to a {' or '.join(kinds)}")
    try:
        return UUID(rest)
    except ValueError:
        raise ValidationError(f"the reference must name a {kinds[0]} id") from None


def resource_id(raw: str, kind: str) -> UUID:
    """The id in a read's path: one that is no UUID names nothing here."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFoundError(f"{kind} {raw} not found") from None


def ids(values: list[str], kind: str) -> tuple[UUID, ...]:
    return tuple(reference(v, kind) for v in values)


def instant(value: str, name: str) -> datetime:
    """An instant with a time zone, or a date (its midnight, UTC)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name} must be a date or an instant with a time zone") from None
    return aware(parsed, name)


def date_range(values: list[str], name: str) -> tuple[datetime | None, datetime | None]:
    """`ge`/`gt` values bound the range from below, `le`/`lt` from above (start inclusive,
    end exclusive, as the read models compare)."""
    low = high = None
    for raw in values:
        prefix, rest = raw[:2], raw[2:]
        if prefix not in PREFIXES:
            raise ValidationError(f"{name} needs a ge, gt, le or lt prefix")
        when = instant(rest, name)
        if prefix in ("ge", "gt"):
            low = when
        else:
            high = when
    return low, high
