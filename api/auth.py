"""JWT bearer authentication (PyJWT through Litestar's JWTAuth). Identity comes from the token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from domain.actor import Actor, Role

ALGORITHM = "HS256"
TOKEN_ROLES = frozenset(Role) - {Role.SYSTEM}
# The video provider's webhooks carry its signature instead of a bearer token.
# /dashboard: the analytics page's static shell and script; its data needs the token.
PUBLIC_PATHS = [
    "/schema",
    "/health",
    "/metrics",
    "/v1/video/webhooks",
    "/dashboard",
    "/v1/notifications/twilio",  # signed by Twilio (issue 10)
]


def actor_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    try:
        subject = UUID(token.sub)
        role = Role(token.extras.get("role", ""))
    except ValueError:
        raise NotAuthorizedException(
            "the token's sub must be a UUID and role a known role"
        ) from None
    if role not in TOKEN_ROLES:
        raise NotAuthorizedException("the token's role is not accepted")
    return Actor(subject=subject, role=role)


def jwt_auth(secret: str, issuer: str) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=actor_from_token,
        token_secret=secret,
        algorithm=ALGORITHM,
        accepted_issuers=[issuer],
        require_claims=["exp", "sub", "iss"],
        exclude=PUBLIC_PATHS,
    )


def mint_token(
    secret: str, issuer: str, role: Role, subject: UUID, ttl: timedelta = timedelta(hours=8)
) -> str:
    """A signed bearer token for `subject` acting as `role`."""
    token = Token(
        exp=datetime.now(UTC) + ttl,
        sub=str(subject),
        iss=issuer,
        jti=uuid4().hex,  # the token's id, recorded in access records
        extras={"role": role.value},
    )
    return token.encode(secret, ALGORITHM)


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def roles(*allowed: Role) -> Guard:
    """A guard admitting only callers with one of `allowed` roles."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            # Authentication skips OPTIONS (a browser's preflight carries no token), so there is
            # no caller to check; the answer only lists the allowed methods.
            return
        actor = connection.user
        if not isinstance(actor, Actor) or actor.role not in allowed:
            names = ", ".join(r.value for r in allowed)
            raise PermissionDeniedException(f"this endpoint needs one of the roles: {names}")

    return guard
