"""Read audit at the HTTP edge: every answer of a route that returns patient data writes an
access record (projections/audit/access.py) before its first byte is sent.

Mark a route with `@audits_reads("Appointment")` (above its `@get`), and let its handler note
what it read through the `access` dependency: `access.saw(view)` for anything with an `id` and
a `patient_id`, or `access.saw(patients=[...], resources=[...])`. The record is written for every
outcome, including the refusals a guard or the handler raises (401, 403, 404), by a
`before_send` hook: it sees the final status of every response, after the exception handlers.
If the record cannot be stored, the client gets a 503 instead of the data, so no answered read
goes unrecorded; the record's commit precedes the response, so a process killed after the
client saw a 200 has committed its record. Records of concurrent requests share one transaction
(a group commit, `GroupCommit`): each request still waits for the commit that holds its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

import anyio.to_thread
import msgspec
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter
from litestar.types import Message, Scope

from api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, UNAVAILABLE, UNAVAILABLE_RETRY_AFTER
from domain.actor import Actor
from projections.audit.access import (
    Access,
    AccessLog,
    AccessRecord,
    patients_of,
    purpose,
    recorded_query,
)

log = logging.getLogger("slotwise.read_audit")

MARK = "slotwise_read_audit"
_NOTE = "slotwise_access"
_FAILED = "slotwise_access_failed"
PURPOSE_HEADER = "x-purpose-of-use"
H = TypeVar("H", bound=HTTPRouteHandler)

PurposeOfUse = Annotated[
    str | None,
    HeaderParameter(
        name="X-Purpose-Of-Use",
        required=False,
        description=(
            "Why the data is read (e.g. TREAT, HPAYMT, HOPERAT, PATRQT): recorded as given in "
            "the access record this read writes."
        ),
    ),
]


def audits_reads(resource_type: str, action: str = "query") -> Callable[[H], H]:
    """Mark a route as returning patient data: each of its answers writes an access record.
    `action` is "read" for one resource by id, "query" for a search or listing."""

    def mark(handler: H) -> H:
        handler.opt[MARK] = (resource_type, action)
        return handler

    return mark


def _note(scope: Scope) -> Access:
    state: dict[str, Any] = scope.setdefault("state", {})
    found = state.get(_NOTE)
    if not isinstance(found, Access):
        found = state[_NOTE] = Access()
    return found


def provide_access(request: Request[Any, Any, Any], purpose_of_use: PurposeOfUse = None) -> Access:
    """The `access` dependency: the note of what this request read. (The purpose header is read
    again by the hook, for refusals too; declaring it here documents it on the route.)"""
    return _note(request.scope)


def saw_resources(scope: Scope, body: Mapping[str, Any]) -> None:
    """Note the FHIR resources answered (one resource, or a Bundle's entries): their ids, and
    the patients they are of (a Patient itself, or an Appointment's patient participant)."""
    entries = body.get("entry") if body.get("resourceType") == "Bundle" else None
    found = [e.get("resource", {}) for e in entries or []] if entries is not None else [body]
    patients: list[UUID] = []
    resources: list[UUID] = []
    for resource in found:
        own = _uuid(resource.get("id"))
        if own is not None:
            resources.append(own)
            if resource.get("resourceType") == "Patient":
                patients.append(own)
        for participant in resource.get("participant", []):
            ref = str(participant.get("actor", {}).get("reference", ""))
            kind, _, ident = ref.partition("/")
            patient = _uuid(ident) if kind == "Patient" else None
            if patient is not None:
                patients.append(patient)
    _note(scope).saw(patients=patients, resources=resources)


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _header(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name.encode():
            return bytes(value).decode("latin-1")
    return None


def access_record(scope: Scope, mark: tuple[str, str], status: int, now: datetime) -> AccessRecord:
    resource_type, action = mark
    actor = scope.get("user")
    token = scope.get("auth")
    jti = getattr(token, "jti", None)
    client = scope.get("client")
    params: dict[str, Any] = dict(scope.get("path_params") or {})
    patients, resources = _note(scope).snapshot()
    patients += [p for p in patients_of(params) if p not in patients]
    query = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, _, v in (p.partition(b"=") for p in scope.get("query_string", b"").split(b"&"))
        if k
    ]
    return AccessRecord(
        id=uuid4(),
        recorded_at=now,
        action=action,
        resource_type=resource_type,
        route=str(scope.get("path_template") or ""),
        method=str(scope.get("method", "GET")),
        path_params={k: str(v) for k, v in params.items()},
        query=recorded_query(query),
        outcome=status,
        patient_ids=patients,
        resource_ids=resources,
        actor_id=actor.subject if isinstance(actor, Actor) else None,
        actor_role=actor.role.value if isinstance(actor, Actor) else None,
        token_id=jti if isinstance(jti, str) else None,
        client=str(client[0]) if client else None,
        correlation_id=_correlation(scope),
        purpose_of_use=purpose(_header(scope, PURPOSE_HEADER)),
    )


def _correlation(scope: Scope) -> str | None:
    raw = _header(scope, "x-correlation-id")
    try:
        return None if raw is None else str(UUID(raw))
    except ValueError:
        return None


_REFUSAL = msgspec.json.encode(
    {
        "type": PROBLEM_BASE + UNAVAILABLE[0],
        "title": UNAVAILABLE[1],
        "status": 503,
        "detail": "the read could not be recorded in the access log; retry shortly",
    }
)


def _refuse(message: Message) -> None:
    message["status"] = 503  # type: ignore[typeddict-unknown-key]
    message["headers"] = [  # type: ignore[typeddict-unknown-key]
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(_REFUSAL)).encode()),
        (b"retry-after", UNAVAILABLE_RETRY_AFTER.encode()),
    ]


class GroupCommit:
    """Appends records in batches: while one batch is being committed (in a worker thread),
    the records of other requests gather for the next, so under load one commit serves many
    requests. `append` returns once the commit holding its record is done, or raises its error
    for every request of a batch that failed."""

    def __init__(self) -> None:
        self._pending: list[tuple[AccessLog, AccessRecord, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, log: AccessLog, record: AccessRecord) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((log, record, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(done)  # a client that goes away does not cancel the write

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            by_log: dict[int, list[tuple[AccessLog, AccessRecord, asyncio.Future[None]]]] = {}
            for item in batch:
                by_log.setdefault(id(item[0]), []).append(item)
            for items in by_log.values():
                try:
                    await anyio.to_thread.run_sync(items[0][0].append, [r for _, r, _ in items])
                except Exception as error:  # every request of the batch answers 503
                    for _, _, done in items:
                        if not done.done():
                            done.set_exception(error)
                else:
                    for _, _, done in items:
                        if not done.done():
                            done.set_result(None)


def _group(scope: Scope) -> GroupCommit:
    """The app's group commit (one per application, created in its event loop)."""
    state = scope["app"].state
    found = getattr(state, "read_audit_group", None)
    if not isinstance(found, GroupCommit):
        found = GroupCommit()
        state.read_audit_group = found
    return found


async def record_reads(message: Message, scope: Scope) -> None:
    """The app's `before_send` hook (see the module's docstring)."""
    state: dict[str, Any] = scope.setdefault("state", {})
    if message["type"] == "http.response.body" and state.get(_FAILED):
        message["body"] = _REFUSAL if not state.get(_FAILED + "_sent") else b""
        message["more_body"] = False
        state[_FAILED + "_sent"] = True
        return
    if message["type"] != "http.response.start":
        return
    handler = scope.get("route_handler")
    mark = getattr(handler, "opt", {}).get(MARK) if handler is not None else None
    services = getattr(scope["app"].state, "services", None)
    access_log = getattr(services, "access", None)
    if mark is None or access_log is None:
        return
    record = access_record(scope, mark, int(message["status"]), datetime.now(UTC))
    try:
        await _group(scope).append(access_log, record)
    except Exception:
        log.exception("an access record could not be stored; answering 503 instead")
        state[_FAILED] = True
        _refuse(message)
