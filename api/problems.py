"""RFC 9457 problem details: one table maps every error to a status, a type slug and a title."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from commands.application import IdempotencyKeyReusedError
from commands.ports import WebhookRejectedError
from domain import errors
from domain.patient import LegalHoldError
from domain.personal import SubjectErasedError
from domain.recurrence import RecurrenceError
from domain.series import SeriesConflictError
from domain.video_visit import RecordingNotConsentedError, RoomNotOpenError
from projections.positions import BeyondLogHeadError, TooManyWaitersError

log = logging.getLogger("slotwise.api")

PROBLEM_BASE = "https://slotwise.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_STATUSES = (429, 503)


def _described(text: str) -> Any:
    return msgspec.Meta(description=text)


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem: every error the API answers has this body."""

    type: Annotated[str, _described(f"{PROBLEM_BASE} and a slug naming the kind of problem")]
    title: Annotated[str, _described("The same for every problem of this type")]
    status: Annotated[int, _described("The HTTP status code")]
    detail: Annotated[str, _described("What went wrong with this request, naming the field")]
    instance: Annotated[str, _described("The request path")]
    errors: Annotated[
        list[dict[str, Any]] | None,
        _described(
            "A malformed request's parameter errors; a series' conflicting occurrences (each "
            "with recurrence_id, reason, detail and alternatives); a bad recurrence rule's part"
        ),
    ] = None
    head: Annotated[
        int | None, _described("The log's last position, when min_position is beyond it")
    ] = None


class ReadModelBehindError(Exception):
    """The read model did not reach the requested position in time."""


# Most specific first: the first matching row wins.
PROBLEMS: list[tuple[type[Exception], int, str, str]] = [
    (IdempotencyKeyReusedError, 422, "idempotency-key-reused", "Idempotency-Key reused"),
    (RecurrenceError, 422, "invalid-recurrence", "The recurrence rule is not valid"),
    (SeriesConflictError, 409, "series-conflict", "Occurrences of the series conflict"),
    (errors.ValidationError, 422, "validation-failed", "The request breaks a rule"),
    (errors.NotFoundError, 404, "not-found", "Not found"),
    (errors.ForbiddenError, 403, "forbidden", "Not allowed for your role"),
    (errors.StaleVersionError, 412, "version-mismatch", "If-Match does not match the version"),
    (errors.SlotFullError, 409, "slot-full", "The slot is full"),
    (errors.SlotOverlapError, 409, "slot-overlap", "Overlapping slot"),
    (errors.AppointmentOverlapError, 409, "appointment-overlap", "Overlapping appointment"),
    (errors.HoldExpiredError, 409, "hold-expired", "The hold has expired"),
    (errors.SlotUnavailableError, 409, "slot-unavailable", "The slot cannot be booked"),
    (errors.InvalidTransitionError, 409, "invalid-transition", "Not allowed in this status"),
    (errors.TooEarlyError, 409, "too-early", "Too early for this action"),
    (errors.TooLateError, 409, "too-late", "Too late for this action"),
    (errors.ConcurrencyError, 409, "version-conflict", "Concurrent modification"),
    (LegalHoldError, 409, "legal-hold", "The patient's records are under a legal hold"),
    (SubjectErasedError, 409, "patient-erased", "The patient's personal data was erased"),
    (RoomNotOpenError, 409, "video-room-not-open", "The visit's video room is not open"),
    (RecordingNotConsentedError, 409, "recording-not-consented", "No consent to recording"),
    (errors.ConflictError, 409, "conflict", "Conflict"),
    (errors.DomainError, 422, "domain-rule", "The request breaks a rule"),
    (BeyondLogHeadError, 422, "position-beyond-head", "min_position is beyond the log"),
    (ReadModelBehindError, 503, "read-model-behind", "The read model has not caught up yet"),
    (TooManyWaitersError, 503, "too-many-waiters", "Too many reads are waiting; retry shortly"),
    (WebhookRejectedError, 401, "webhook-rejected", "The webhook's signature did not verify"),
]

HTTP_PROBLEMS: dict[type[HTTPException], tuple[str, str]] = {
    ValidationException: ("invalid-request", "The request is malformed"),
    NotAuthorizedException: ("unauthenticated", "Authentication required"),
    PermissionDeniedException: ("forbidden", "Not allowed for your role"),
    NotFoundException: ("not-found", "Not found"),
    TooManyRequestsException: ("rate-limited", "Too many requests"),
}
HTTP_FALLBACK = ("http-error", "HTTP error")
INTERNAL = ("internal", "Internal server error")
UNAVAILABLE = ("unavailable", "The service is briefly unavailable")
UNAVAILABLE_RETRY_AFTER = "2"


def problem_types(status: int) -> list[tuple[str, str]]:
    """The (slug, title) of every problem answered with `status`, from the tables above."""
    found = [(slug, title) for _, code, slug, title in PROBLEMS if code == status]
    found += [v for t, v in HTTP_PROBLEMS.items() if t.status_code == status and v not in found]
    if status == RequestEntityTooLarge.status_code:
        found.append(HTTP_FALLBACK)
    if status == HTTP_500_INTERNAL_SERVER_ERROR:
        found.append(INTERNAL)
    if status == HTTP_503_SERVICE_UNAVAILABLE:
        found.append(UNAVAILABLE)
    return found


def problem(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    head: int | None = None,
) -> Response[Problem]:
    body = Problem(
        type=PROBLEM_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
        head=head,
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    for error_type, status, slug, title in PROBLEMS:
        if isinstance(exc, error_type):
            headers = {"Retry-After": "1"} if status == 503 else None
            if isinstance(exc, RoomNotOpenError) and exc.retry_after is not None:
                headers = {"Retry-After": str(exc.retry_after)}
            head = exc.head if isinstance(exc, BeyondLogHeadError) else None
            found = _listed(exc)
            return problem(request, status, slug, title, str(exc), headers, found, head)
    return internal_handler(request, exc)


def _listed(exc: Exception) -> list[dict[str, Any]] | None:
    """What a problem lists in `errors`: each conflicting occurrence of a series, or the
    part of a recurrence rule that is wrong."""
    if isinstance(exc, SeriesConflictError):
        return exc.conflicts
    if isinstance(exc, RecurrenceError):
        return [{"part": exc.part, "message": str(exc)}]
    return None


def http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    slug, title = next((v for t, v in HTTP_PROBLEMS.items() if isinstance(exc, t)), HTTP_FALLBACK)
    status = exc.status_code
    if isinstance(exc, ValidationException):
        # Which field, and why: msgspec names the path in its message.
        extra = exc.extra or []
        errors = extra if isinstance(extra, list) else [extra]
        return problem(request, 400, slug, title, str(exc.detail), errors=errors)
    headers = dict(exc.headers or {})
    if isinstance(exc, TooManyRequestsException):
        # The rate limiter says when its window resets; Retry-After says it the standard way.
        headers.setdefault("Retry-After", headers.get("RateLimit-Reset", "60"))
    return problem(request, status, slug, title, str(exc.detail), headers or None)


def internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Log the cause for operators, but tell the client nothing about internals.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        *INTERNAL,
        "something went wrong on our side; the request can be retried with its Idempotency-Key",
    )


ExceptionHandler = Callable[[Request[Any, Any, Any], Exception], Response[Problem]]


def unavailable_handler(transient: Callable[[BaseException], bool]) -> ExceptionHandler:
    """For the storage's error types: an outage (as `transient` judges it: the database
    restarting, no connection to be had) is a 503 the client may retry, anything else a 500."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
        if not transient(exc):
            return internal_handler(request, exc)
        log.warning(
            "storage unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return problem(
            request,
            HTTP_503_SERVICE_UNAVAILABLE,
            *UNAVAILABLE,
            "the database is unavailable; retry shortly (commands with their Idempotency-Key)",
            {"Retry-After": UNAVAILABLE_RETRY_AFTER},
        )

    return handle


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    errors.DomainError: domain_handler,
    IdempotencyKeyReusedError: domain_handler,
    ReadModelBehindError: domain_handler,
    BeyondLogHeadError: domain_handler,
    TooManyWaitersError: domain_handler,
    WebhookRejectedError: domain_handler,
    HTTPException: http_handler,
    Exception: internal_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "MediaType", "Problem", "ReadModelBehindError"]
