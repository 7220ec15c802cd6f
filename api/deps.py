"""What handlers receive through Litestar's dependency injection: the command application, the
read-side ports, the caller and the context of a command, and the read-your-writes wait.

The app factory puts one `Services` in the application state; the providers below hand its
parts to the handlers that name them as parameters. The request headers the providers read are
declared as parameters too, so the OpenAPI document lists them where they are honoured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeAlias, TypeVar
from uuid import UUID, uuid4

from litestar import Request
from litestar.datastructures import State
from litestar.di import Dependency, Provide
from litestar.params import HeaderParameter, QueryParameter, SkipValidationMarker

from api.problems import ReadModelBehindError
from api.read_audit import provide_access
from commands.context import CommandContext
from commands.idempotency import MAX_KEY_LENGTH
from commands.ports import Clock, SignedRequests, VideoRooms
from commands.scheduling import Scheduling
from domain.actor import Actor
from domain.errors import ValidationError
from domain.limits import check_instant
from domain.text import check_text
from projections.analytics_queries import AnalyticsQueries
from projections.audit.access import AccessLog
from projections.audit.proofs import AuditProofs
from projections.audit.trail import AuditTrail
from projections.directory import DirectoryQueries
from projections.follow_ups import FollowUpQueries
from projections.history import History
from projections.notifications.deliveries import (
    BulkNotices,
    DeliveryQueries,
    DeliveryStore,
    Inbox,
    OutboxReads,
    Recipients,
)
from projections.positions import PositionWaits
from projections.queries import SchedulingQueries
from projections.scheduling import SchedulingProjection
from projections.search import SearchBackend
from projections.status import StatusQueries
from projections.video_queries import VideoQueries
from projections.waitlist_queries import WaitlistQueries

T = TypeVar("T")

Injected: TypeAlias = Annotated[T, Dependency(kind="named"), SkipValidationMarker()]
"""A handler parameter the providers below fill in by its name. The values are our own objects
(often behind a Protocol), so the framework does not validate them as it does request input."""


@dataclass(frozen=True)
class NotificationServices:
    """Notifications (issue 10): delivery records, the inbox, dev mode's outbox (None outside
    dev mode), and Twilio's webhook signatures (None: webhooks are refused)."""

    deliveries: DeliveryQueries
    callbacks: DeliveryStore
    inbox: Inbox
    recipients: Recipients
    outbox: OutboxReads | None
    signatures: SignedRequests | None
    public_base_url: str
    recipient_key: bytes
    bulk: BulkNotices | None = None


@dataclass(frozen=True)
class Services:
    scheduling: Scheduling
    queries: SchedulingQueries
    analytics: AnalyticsQueries
    search: SearchBackend
    positions: PositionWaits  # read your writes: waits for each projection's position
    clock: Clock
    read_wait_seconds: float
    max_page_size: int
    status: StatusQueries | None = None  # the log readers' lag, for /metrics
    audit: AuditProofs | None = None  # proofs over the sealed log, for auditors
    # Read audit: where access records go (api/read_audit.py). The app's own lifespan always
    # sets it; services built without it (unit tests, the bench's "off" side) record nothing.
    access: AccessLog | None = None
    trail: AuditTrail | None = None  # audit queries, for auditors
    history: History | None = None  # as-of views from the event log
    anomaly_threshold: int = 50  # distinct patients an actor may read in a period unremarked
    # The same for these roles instead (SLOTWISE_AUDIT_DISTINCT_PATIENTS_BY_ROLE).
    anomaly_role_thresholds: Mapping[str, int] = field(default_factory=dict)
    directory: DirectoryQueries | None = None  # providers, patients, every slot: the FHIR facade
    video: VideoRooms | None = None  # the video provider (issue 13)
    video_queries: VideoQueries | None = None
    follow_ups: FollowUpQueries | None = None  # open follow-up requests (issue 11)
    waitlist: WaitlistQueries | None = None  # the waitlist (issue 11)
    notifications: NotificationServices | None = None  # issue 10


# --- request headers, declared once so the document shows them where they are read ------------
# Their values are checked here rather than by the framework, so a malformed one is a 422
# problem naming the header; the document states the same rules (`schema_extra`).

ETAG_PATTERN = r'^\s*(W/)?"?[0-9]{1,18}"?\s*$'

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        schema_extra={"min_length": 1, "max_length": MAX_KEY_LENGTH},
        description=(
            f"1 to {MAX_KEY_LENGTH} characters. A retried command with the same key answers the "
            "first outcome instead of acting twice; the same key with another body is a 422."
        ),
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        schema_extra={"pattern": ETAG_PATTERN},
        description=(
            'The appointment version the change is based on, as its ETag (such as "3"); '
            "a different current version answers 412."
        ),
    ),
]
CorrelationId = Annotated[
    str | None,
    HeaderParameter(
        name="X-Correlation-ID",
        required=False,
        schema_extra={"format": "uuid"},
        description="A UUID carried into the recorded events' metadata (default: a new one).",
    ),
]
CausationId = Annotated[
    str | None,
    HeaderParameter(
        name="X-Causation-ID",
        required=False,
        schema_extra={"format": "uuid"},
        description="A UUID naming what caused this command, kept in the events' metadata.",
    ),
]
MinPositionQuery = Annotated[
    int | None,
    QueryParameter(
        name="min_position",
        required=False,
        description=(
            "Read your writes: wait (bounded) until the read model has applied this log "
            "position, e.g. the `position` a command answered; 503 with Retry-After if it has "
            "not in time (or too many reads are waiting), 422 with the log's `head` if the "
            "position is past the last event."
        ),
    ),
]
MinPositionHeader = Annotated[
    str | None,
    HeaderParameter(
        name="X-Min-Position",
        required=False,
        schema_extra={"pattern": "^[0-9]{1,18}$"},
        description="As the `min_position` query parameter, which wins when both are sent.",
    ),
]


def _uuid_header(raw: str | None, name: str) -> UUID | None:
    if raw is None:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationError(f"header {name} must be a UUID") from None


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise ValidationError('If-Match must be a version ETag such as "3"') from None


def _context(
    actor: Injected[Actor],
    key: str | None,
    if_match: str | None,
    correlation: str | None,
    causation: str | None,
) -> CommandContext:
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    expected = _expected_version(if_match)
    return CommandContext(
        actor=actor,
        correlation_id=_uuid_header(correlation, "X-Correlation-ID") or uuid4(),
        causation_id=_uuid_header(causation, "X-Causation-ID"),
        idempotency_key=key,
        expected_version=expected,
    )


def provide_context(
    request: Request[Any, Any, Any],
    actor: Injected[Actor],
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
    causation_id: CausationId = None,
) -> CommandContext:
    # Commands that ignore If-Match still refuse a malformed one rather than accept it silently.
    if_match = request.headers.get("If-Match")
    return _context(actor, idempotency_key, if_match, correlation_id, causation_id)


def provide_versioned_context(
    actor: Injected[Actor],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
    correlation_id: CorrelationId = None,
    causation_id: CausationId = None,
) -> CommandContext:
    """The context of a command that honours If-Match (optimistic concurrency for clients)."""
    return _context(actor, idempotency_key, if_match, correlation_id, causation_id)


# --- read your writes -------------------------------------------------------------------------


@dataclass(frozen=True)
class MinPosition:
    """The log position the read asked to see (None if none), which the read model named by
    the route's `position` dependency (`reads(projection)`) has applied by the time the
    handler runs. Each projection keeps a position of its own."""

    wanted: int | None


def _wanted(query: int | None, header: str | None) -> int | None:
    if query is None and header is not None:
        try:
            return int(header)
        except ValueError:
            raise ValidationError("X-Min-Position must be a whole number") from None
    return query


def reads(projection: str) -> Provide:
    """The `position` dependency of routes that read `projection`'s read model: it waits, in
    the event loop (no thread, no connection), until the position asked for is applied."""

    async def provide_position(
        services: Injected[Services],
        min_position: MinPositionQuery = None,
        x_min_position: MinPositionHeader = None,
    ) -> MinPosition:
        wanted = _wanted(min_position, x_min_position)
        if wanted is not None and wanted > 0:
            timeout = services.read_wait_seconds
            if not await services.positions.wait_for(projection, wanted, timeout):
                msg = f"the read model has not reached position {wanted} yet; retry shortly"
                raise ReadModelBehindError(msg)
        return MinPosition(wanted)

    return Provide(provide_position)


# --- request values handlers share ------------------------------------------------------------
# Every query parameter is checked here, once, before it reaches a query: whatever passes can be
# compared, converted and sent to PostgreSQL or OpenSearch without overflowing or being refused.

MAX_OFFSET = 10_000
"""The deepest a page may start, on every paged read: past it, narrow the filters instead."""

Offset = Annotated[
    int,
    QueryParameter(
        ge=0,
        le=MAX_OFFSET,
        description=f"Rows to skip, 0 to {MAX_OFFSET}; to go further, narrow the filters.",
    ),
]


def page_size(limit: int, cap: int) -> int:
    if not 1 <= limit <= cap:
        raise ValidationError(f"limit must be between 1 and {cap}")
    return limit


def aware(value: datetime, name: str) -> datetime:
    """A query instant in UTC, refusing naive ones and any outside the supported range
    (domain/limits.py), so no conversion or comparison with it can overflow."""
    return check_instant(name, value)


def optional_aware(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else aware(value, name)


def refuse_control_characters(request: Request[Any, Any, Any]) -> None:
    """A request hook: no query parameter may hold a control character (no query needs one,
    and PostgreSQL cannot hold a NUL), checked for every route by the one text rule."""
    for name, value in request.query_params.multi_items():
        check_text(name, value)


# --- providers --------------------------------------------------------------------------------


def provide_services(state: State) -> Services:
    found: Services = state.services
    return found


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    user = request.user
    if not isinstance(user, Actor):  # pragma: no cover - the auth middleware guarantees it
        raise TypeError("request has no authenticated actor")
    return user


def _provide(dependency: Any) -> Provide:
    # Every provider only reads or checks values in memory; none blocks, so none needs a thread.
    return Provide(dependency, sync_to_thread=False)


def _part(attribute: str) -> Provide:
    def provide(services: Injected[Services]) -> Any:
        return getattr(services, attribute)

    return _provide(provide)


# The handler parameter name, and the part of `Services` it receives.
PARTS = {
    "scheduling": "scheduling",
    "queries": "queries",
    "analytics": "analytics",
    "search": "search",
    "read_positions": "positions",
    "clock": "clock",
    "page_cap": "max_page_size",
    "log_status": "status",
    "audit": "audit",
    "trail": "trail",
    "history": "history",
    "anomaly_threshold": "anomaly_threshold",
    "anomaly_role_thresholds": "anomaly_role_thresholds",
    "video_rooms": "video",
    "video_queries": "video_queries",
    "follow_ups": "follow_ups",
    "waitlist_queries": "waitlist",
    "notifications": "notifications",
}

DEPENDENCIES: dict[str, Provide] = {
    "services": _provide(provide_services),
    "actor": _provide(provide_actor),
    "context": _provide(provide_context),
    "access": _provide(provide_access),
    "position": reads(SchedulingProjection.name),  # the controllers of other models override it
    **{name: _part(attribute) for name, attribute in PARTS.items()},
}
VERSIONED = {"context": _provide(provide_versioned_context)}
"""Route-level override for the commands that honour If-Match."""
