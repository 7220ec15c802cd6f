"""The `slotwise` command: serve the API, run workers, migrate, mint development tokens."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from uuid import UUID

from domain.actor import Role


def _settings() -> object:
    from infra.settings import Settings, SettingsError

    try:
        return Settings.from_env(os.environ)
    except SettingsError as error:
        sys.exit(f"slotwise: {error}")


def _progress(message: str) -> None:
    print(f"slotwise: {message}", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from api.app import create_app
    from infra.settings import Settings

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
        access_log=False,
    )


def cmd_worker(args: argparse.Namespace) -> None:
    from infra.bootstrap import eventstore_env, locate_database, prepare
    from infra.row_view import PostgresRowView
    from infra.settings import Settings
    from workers.projection_worker import run_projection

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    db = locate_database(settings, _progress)
    prepare(db)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_projection(eventstore_env(db, 2), PostgresRowView, stop)


def cmd_sweeper(_: argparse.Namespace) -> None:
    from psycopg_pool import ConnectionPool

    from commands.ports import SystemClock
    from infra.bootstrap import build_scheduling, locate_database, prepare
    from infra.scheduling_queries import PostgresSchedulingQueries
    from infra.settings import Settings
    from workers.hold_sweeper import run_sweeper

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    db = locate_database(settings, _progress)
    prepare(db)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduling = build_scheduling(settings, db)
    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        run_sweeper(scheduling, PostgresSchedulingQueries(pool), SystemClock(), stop)
    scheduling.close()


def cmd_migrate(_: argparse.Namespace) -> None:
    from infra.bootstrap import locate_database, prepare
    from infra.settings import Settings

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    db = locate_database(settings, _progress)
    applied = prepare(db)
    _progress(f"database {db.dbname}: {len(applied)} migration(s) applied {applied}")


def cmd_token(args: argparse.Namespace) -> None:
    from api.auth import mint_token
    from infra.settings import Settings

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    ttl = timedelta(hours=args.ttl_hours)
    print(mint_token(settings.jwt_secret, settings.jwt_issuer, Role(args.role), args.sub, ttl))


def cmd_run(_: argparse.Namespace) -> None:
    """Migrate, then run the API and the projection worker until interrupted."""
    cmd_migrate(_)
    exe = [sys.executable, "-m", "workers.cli"]
    children = [
        subprocess.Popen([*exe, "worker", "projections"]),  # noqa: S603
        subprocess.Popen([*exe, "worker", "holds"]),  # noqa: S603
        subprocess.Popen([*exe, "serve"]),  # noqa: S603
    ]
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    while not stopping.wait(0.5):
        if any(child.poll() is not None for child in children):
            _progress("a child process exited; stopping the rest")
            break
    for child in children:
        child.terminate()
    for child in children:
        child.wait(timeout=20)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="slotwise", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run a worker process")
    worker.add_argument("name", choices=["projections", "holds"])
    worker.set_defaults(func=lambda a: cmd_sweeper(a) if a.name == "holds" else cmd_worker(a))
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("task", choices=["migrate"])
    db.set_defaults(func=cmd_migrate)
    token = sub.add_parser("token", help="mint a development bearer token")
    token.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.SYSTEM])
    token.add_argument("--sub", required=True, type=UUID, help="patient/provider/user id")
    token.add_argument("--ttl-hours", type=float, default=8.0)
    token.set_defaults(func=cmd_token)
    run = sub.add_parser("run", help="migrate, then run the API and its workers")
    run.set_defaults(func=cmd_run)
    return root


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
