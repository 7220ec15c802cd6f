"""The API's access log, in place of uvicorn's: one line per request with its method, route
template (`/v1/appointments/{appointment_id:uuid}`) and path parameters (ids), status, duration,
correlation id and caller's id, and never the query string (a search's `q=`, a prefix, names).

It wraps the whole ASGI app, so unrouted requests are logged too. The request's correlation id
(the `X-Correlation-ID` header if it is a UUID, else a new one, added to the request so the
command context records the same) is bound for every line logged while the request runs, and
returned in the response's `X-Correlation-ID`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from uuid import UUID, uuid4

import structlog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Litestar's own signature is narrower

HEADER = b"x-correlation-id"
log = structlog.stdlib.get_logger("slotwise.access")


def _correlation(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == HEADER:
            try:
                return str(UUID(value.decode("latin-1")))
            except ValueError:
                break  # a malformed one: the API refuses it with a 400; log a fresh id
    return str(uuid4())


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = _correlation(scope)
        if not any(name.lower() == HEADER for name, _ in scope.get("headers", [])):
            scope["headers"] = [*scope.get("headers", []), (HEADER, correlation.encode())]
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, correlation.encode())]
            await send(message)

        began = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=correlation):
            try:
                await self.app(scope, receive, sending)
            finally:
                user = scope.get("user")
                log.info(
                    "http request",
                    method=scope.get("method"),
                    # Unrouted paths are whatever a client typed: not logged.
                    route=scope.get("path_template") or "(no route)",
                    params=scope.get("path_params") or None,
                    status=status[0],
                    duration_ms=round((time.perf_counter() - began) * 1000, 1),
                    actor_id=str(getattr(user, "subject", "")) or None,
                    actor_role=str(getattr(getattr(user, "role", None), "value", "")) or None,
                )
