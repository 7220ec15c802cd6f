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
from urllib.parse import urlsplit
from uuid import UUID

from domain.actor import Role
from workers import projections_cli


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
    from infra.opensearch.index import OpenSearchBackend
    from infra.opensearch.sink import opensearch_search_view
    from infra.postgres.rows import PostgresRowView
    from infra.postgres.search.writes import PostgresSearchView
    from infra.settings import Settings
    from projections.search_projection import SearchSink
    from workers.projection_worker import run_projection

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    db = locate_database(settings, _progress)
    prepare(db)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    search_view: type[SearchSink] = PostgresSearchView
    if settings.search_backend == "opensearch":
        assert settings.opensearch_url  # noqa: S101 (Settings requires it)
        backend = OpenSearchBackend.from_url(settings.opensearch_url)
        backend.ensure_indices()
        search_view = opensearch_search_view(backend)
        _progress(f"search documents go to OpenSearch at {_redacted(settings.opensearch_url)}")
    rows = PostgresRowView if args.name == "projections" else None
    run_projection(eventstore_env(db, 2), rows, stop, search_view)


def _redacted(url: str) -> str:
    """`url` without credentials, for logs."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl()


def cmd_relay(_: argparse.Namespace) -> None:
    from psycopg_pool import ConnectionPool

    from infra.bootstrap import build_scheduling, locate_database, prepare
    from infra.kafka.publisher import KafkaPublisher
    from infra.postgres.relay_store import LogListener, PostgresPositions
    from infra.settings import Settings
    from projections.integration import ALL_TOPICS
    from workers.relay import run_relay

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    if not settings.kafka_bootstrap:
        sys.exit("slotwise: set KAFKA_BOOTSTRAP_SERVERS (make run starts a local broker for you)")
    db = locate_database(settings, _progress)
    prepare(db)
    stop = _stop_on_signals()
    scheduling = build_scheduling(settings, db, pool_size=2)
    listener = LogListener(db.conninfo, scheduling.recorder.channel_name)  # type: ignore[attr-defined]
    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        _progress(f"relaying to {settings.kafka_bootstrap}")
        run_relay(
            scheduling,
            KafkaPublisher(settings.kafka_bootstrap, ALL_TOPICS),
            PostgresPositions(pool),
            listener.wait,
            stop,
        )
    listener.close()
    scheduling.close()


def cmd_project(args: argparse.Namespace) -> None:
    import logging as logs

    from psycopg_pool import ConnectionPool

    from infra.bootstrap import build_scheduling, locate_database, prepare
    from infra.kafka.deliveries import KafkaDeliveries
    from infra.kafka.topics import ensure_topics
    from infra.postgres.projection_state import PostgresProjectionState
    from infra.settings import Settings
    from projections import analytics, scheduling
    from projections.integration import ALL_TOPICS
    from workers.kafka_projection import KafkaProjector, run_kafka_projection

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    if not settings.kafka_bootstrap:
        sys.exit("slotwise: set KAFKA_BOOTSTRAP_SERVERS, or run `slotwise worker projections`")
    db = locate_database(settings, _progress)
    prepare(db)
    ensure_topics(settings.kafka_bootstrap, ALL_TOPICS)
    stop = _stop_on_signals()
    app = build_scheduling(settings, db, pool_size=2)
    with ConnectionPool(db.conninfo, min_size=1, max_size=4) as pool:
        state = PostgresProjectionState(pool, args.projection)
        changes_for = {"scheduling": scheduling.changes_for, "analytics": analytics.changes_for}
        projector = KafkaProjector(
            app, changes_for[args.projection], state, skip_poison=args.skip_poison
        )

        def truncated(topic: str, partition: int) -> None:
            logs.getLogger("slotwise.kafka").warning(
                "%s[%d] is behind our stored offset: the topic was lost or truncated; "
                "re-reading it and catching up from the event store",
                topic,
                partition,
            )

        deliveries = KafkaDeliveries(
            settings.kafka_bootstrap,
            f"slotwise.projection.{args.projection}",
            ALL_TOPICS,
            state.stored_offsets,
            truncated,
        )
        _progress(f"projection {args.projection} consuming from {settings.kafka_bootstrap}")
        run_kafka_projection(projector, deliveries, stop)
    app.close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_sweeper(_: argparse.Namespace) -> None:
    from psycopg_pool import ConnectionPool

    from commands.ports import SystemClock
    from infra.bootstrap import build_scheduling, locate_database, prepare
    from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
    from infra.settings import Settings
    from workers.hold_sweeper import run_sweeper

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    db = locate_database(settings, _progress)
    prepare(db)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduling = build_scheduling(settings, db, pool_size=2)
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
    """Migrate, then run the API and its workers until interrupted. With the Kafka fan-out
    (the default) a local Tansu broker is started unless KAFKA_BOOTSTRAP_SERVERS is set."""
    from infra.devstack.kafka_broker import find_or_start_kafka
    from infra.settings import Settings

    cmd_migrate(_)
    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    exe = [sys.executable, "-m", "workers.cli"]
    env = dict(os.environ)
    broker = None
    if settings.fanout == "kafka":
        broker = find_or_start_kafka(settings.kafka_bootstrap, settings.state_dir)
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        _progress(f"Kafka at {broker.bootstrap}" + (" (local Tansu)" if broker.embedded else ""))
        workers = [
            ["worker", "relay"],
            ["worker", "project", "scheduling"],
            ["worker", "project", "analytics"],
        ]
        # Search loads each aggregate from the event store, so it reads the log directly.
        workers.append(["worker", "search"])
    else:
        workers = [["worker", "projections"]]
    children = [
        subprocess.Popen([*exe, *args], env=env)  # noqa: S603
        for args in [*workers, ["worker", "holds"], ["serve"]]
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
    if broker is not None:
        broker.stop()


def cmd_events_export(args: argparse.Namespace) -> None:
    from pathlib import Path

    from projections.integration import Catalog, documents

    root = Path(args.directory)
    stale = []
    for relative, content in documents(Catalog()).items():
        path = root / relative
        if args.check:
            if not path.exists() or path.read_bytes() != content + b"\n":
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content + b"\n")
    if stale:
        sys.exit(f"slotwise: out of date: {', '.join(stale)}; run `slotwise events export`")
    _progress(f"event documents {'checked' if args.check else 'written'} in {root}")


def cmd_search_rebuild(_: argparse.Namespace) -> None:
    from commands.ports import SystemClock
    from infra.bootstrap import build_scheduling, locate_database, prepare
    from infra.opensearch.index import OpenSearchBackend
    from infra.settings import Settings
    from workers.search_rebuild import rebuild_search

    settings = _settings()
    assert isinstance(settings, Settings)  # noqa: S101
    if settings.search_backend != "opensearch" or not settings.opensearch_url:
        sys.exit(
            "slotwise: search rebuild swaps OpenSearch indices; set SEARCH_BACKEND=opensearch "
            "and OPENSEARCH_URL (the PostgreSQL search tables are kept by `worker search`)"
        )
    db = locate_database(settings, _progress)
    prepare(db)
    app = build_scheduling(settings, db, pool_size=2)
    try:
        backend = OpenSearchBackend.from_url(settings.opensearch_url)
        counts = rebuild_search(app, backend, SystemClock().now, _progress)
    finally:
        app.close()
    _progress(f"search rebuilt: {counts}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="slotwise", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run a worker process")
    kinds = worker.add_subparsers(dest="name", required=True)
    kinds.add_parser(
        "projections", help="scheduling, analytics and search, straight from the event store"
    ).set_defaults(func=cmd_worker)
    kinds.add_parser(
        "search", help="only the search projection, straight from the event store"
    ).set_defaults(func=cmd_worker)
    kinds.add_parser("holds", help="expire overdue holds").set_defaults(func=cmd_sweeper)
    kinds.add_parser("relay", help="publish the event log to Kafka").set_defaults(func=cmd_relay)
    project = kinds.add_parser("project", help="run a projection fed from Kafka")
    project.add_argument("projection", choices=["scheduling", "analytics"])
    project.add_argument(
        "--skip-poison",
        action="store_true",
        help="dead-letter an event that keeps failing and move on (default: stop there)",
    )
    project.set_defaults(func=cmd_project)
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("task", choices=["migrate"])
    db.set_defaults(func=cmd_migrate)
    token = sub.add_parser("token", help="mint a development bearer token")
    token.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.SYSTEM])
    token.add_argument("--sub", required=True, type=UUID, help="patient/provider/user id")
    token.add_argument("--ttl-hours", type=float, default=8.0)
    token.set_defaults(func=cmd_token)
    search = sub.add_parser("search", help="search index tasks")
    search.add_argument("task", choices=["rebuild"])
    search.set_defaults(func=cmd_search_rebuild)
    events = sub.add_parser("events", help="integration event documents")
    events.add_argument("task", choices=["export"])
    events.add_argument("--directory", default="docs", help="where to write (default: docs)")
    events.add_argument("--check", action="store_true", help="fail if the files are stale")
    events.set_defaults(func=cmd_events_export)
    run = sub.add_parser("run", help="migrate, then run the API and its workers")
    run.set_defaults(func=cmd_run)
    projections_cli.register(sub)
    return root


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
