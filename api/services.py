"""What handlers use: the command application, the read-side queries, and request helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID, uuid4

from litestar import Request

from api.problems import ReadModelBehindError
from commands.context import CommandContext
from commands.idempotency import MAX_KEY_LENGTH
from commands.ports import Clock
from commands.scheduling import Scheduling
from domain.actor import Actor
from domain.errors import ValidationError
from projections.analytics_queries import AnalyticsQueries
from projections.queries import SchedulingQueries
from projections.search import SearchBackend
from projections.status import StatusQueries


class ReadModel(Protocol):
    def wait_for(self, position: int, timeout: float) -> bool: ...


@dataclass(frozen=True)
class Services:
    scheduling: Scheduling
    queries: SchedulingQueries
    analytics: AnalyticsQueries
    search: SearchBackend
    search_position: ReadModel  # the search projection's own position, for min_position
    clock: Clock
    read_wait_seconds: float
    max_page_size: int
    status: StatusQueries | None = None  # the log readers' lag, for /metrics


def services(request: Request[Any, Any, Any]) -> Services:
    found: Services = request.app.state.services
    return found


def actor(request: Request[Any, Any, Any]) -> Actor:
    user = request.user
    if not isinstance(user, Actor):  # pragma: no cover - the auth middleware guarantees it
        raise TypeError("request has no authenticated actor")
    return user


def _uuid_header(request: Request[Any, Any, Any], name: str) -> UUID | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationError(f"header {name} must be a UUID") from None


def command_context(request: Request[Any, Any, Any]) -> CommandContext:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    expected: int | None = None
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        try:
            expected = int(if_match.strip().removeprefix("W/").strip('"'))
        except ValueError:
            raise ValidationError('If-Match must be a version ETag such as "3"') from None
    return CommandContext(
        actor=actor(request),
        correlation_id=_uuid_header(request, "X-Correlation-ID") or uuid4(),
        causation_id=_uuid_header(request, "X-Causation-ID"),
        idempotency_key=key,
        expected_version=expected,
    )


def await_position(
    request: Request[Any, Any, Any], min_position: int | None, read_model: ReadModel | None = None
) -> None:
    """Read-your-writes: wait (bounded) until the read model has applied `min_position`.
    The read model is the scheduling one unless the handler names another (each projection
    keeps a position of its own)."""
    header = request.headers.get("X-Min-Position")
    if min_position is None and header is not None:
        try:
            min_position = int(header)
        except ValueError:
            raise ValidationError("X-Min-Position must be a whole number") from None
    if min_position is None or min_position <= 0:
        return
    svc = services(request)
    model = read_model if read_model is not None else svc.queries
    if not model.wait_for(min_position, svc.read_wait_seconds):
        msg = f"the read model has not reached position {min_position} yet; retry shortly"
        raise ReadModelBehindError(msg)


def page_size(request: Request[Any, Any, Any], limit: int) -> int:
    cap = services(request).max_page_size
    if not 1 <= limit <= cap:
        raise ValidationError(f"limit must be between 1 and {cap}")
    return limit
