"""`slotwise serve` (the HTTP API) and `slotwise token` (development bearer tokens)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import uvicorn

from api.app import create_app
from api.auth import mint_token
from domain.actor import Role
from infra.observability.access import AccessLog
from infra.settings import DEV_SIGNING_KEY, Settings, SettingsError
from workers.cli.process import say, settings

CHECKOUT = Path(__file__).resolve().parents[2]


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


def in_checkout() -> bool:
    """Whether this runs from a development checkout (not from an installed package)."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / ".git").exists()


def token_settings(env: Mapping[str, str]) -> Settings:
    """The settings a token is minted with. In a checkout with no SLOTWISE_MODE, development
    mode, as `make run` serves: without SLOTWISE_JWT_SECRET, the development key."""
    if not env.get("SLOTWISE_MODE") and in_checkout():
        env = {**env, "SLOTWISE_MODE": "dev"}
    if env.get("SLOTWISE_MODE", "production") == "production" and not env.get(
        "SLOTWISE_JWT_SECRET"
    ):
        msg = (
            "no token minted: in production mode a token must be signed with the API's key. "
            "Set SLOTWISE_JWT_SECRET to the secret the API runs with, or SLOTWISE_MODE=dev "
            "to sign with the development key (accepted by dev and test servers only)"
        )
        raise SettingsError(msg)
    return Settings.from_env(env)


def cmd_token(args: argparse.Namespace) -> None:
    config = token_settings(os.environ)
    if config.jwt_secret == DEV_SIGNING_KEY:
        say(
            f"signed with the development key ({config.mode} mode): "
            "only a dev or test API accepts it"
        )
    ttl = timedelta(hours=args.ttl_hours)
    print(mint_token(config.jwt_secret, config.jwt_issuer, Role(args.role), args.sub, ttl))
