"""`slotwise serve` (the HTTP API) and `slotwise token` (development bearer tokens)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any
from uuid import UUID

import uvicorn

from api.app import create_app
from api.auth import mint_token
from domain.actor import Role
from infra.observability.access import AccessLog
from workers.cli.process import settings


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    token = commands.add_parser("token", help="mint a development bearer token")
    roles = [r.value for r in Role if r != Role.SYSTEM]
    token.add_argument("--role", required=True, choices=roles)
    token.add_argument("--sub", required=True, type=UUID, help="patient/provider/user id")
    token.add_argument("--ttl-hours", type=float, default=8.0)
    token.set_defaults(func=cmd_token)


def cmd_serve(args: argparse.Namespace) -> None:
    config = settings()
    # No log config for uvicorn: its loggers reach the one handler `main` set up. Its access
    # log is off; AccessLog writes one without query strings, with the correlation id.
    uvicorn.run(
        AccessLog(create_app(config)),
        host=args.host or config.host,
        port=args.port or config.port,
        log_config=None,
        access_log=False,
    )


def cmd_token(args: argparse.Namespace) -> None:
    config = settings()
    ttl = timedelta(hours=args.ttl_hours)
    print(mint_token(config.jwt_secret, config.jwt_issuer, Role(args.role), args.sub, ttl))
