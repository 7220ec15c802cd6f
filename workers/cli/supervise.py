"""`slotwise run`: migrate, then run the API and its workers as child processes, restarting
any that exits (with backoff), until interrupted."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack, nullcontext
from typing import Any

from infra import bootstrap
from infra.bootstrap.notifications import local_redis
from workers.cli.process import say, settings, stop_on_signals
from workers.supervisor import supervise

Children = list[tuple[str, list[str]]]
DIRECT: Children = [
    ("projections", ["worker", "project", "scheduling", "analytics", "search", "--source", "log"])
]
FANOUT: Children = [
    ("relay", ["worker", "relay"]),
    ("scheduling", ["worker", "project", "scheduling", "--source", "kafka"]),
    ("analytics", ["worker", "project", "analytics", "--source", "kafka"]),
    # Search loads each aggregate from the event store, so it reads the log directly.
    ("search", ["worker", "project", "search", "--source", "log"]),
]
ALWAYS: Children = [
    ("holds", ["worker", "holds"]),
    # Video visits: the video projection (the log only) and the room policy acting on it.
    ("video-projection", ["worker", "project", "video", "--source", "log"]),
    ("video", ["worker", "video"]),
    # Waitlist: its projection (the log only) and the offer policy acting on it.
    ("waitlist-projection", ["worker", "project", "waitlist", "--source", "log"]),
    ("waitlist", ["worker", "waitlist"]),
    ("sealer", ["worker", "seal"]),
    ("access-sealer", ["worker", "seal", "--log", "access"]),
    ("api", ["serve"]),
    # Notifications (issue 10): the reminder policy, the scheduler and the send worker.
    ("reminders", ["worker", "reminders"]),
    ("notify-scheduler", ["worker", "notify-scheduler"]),
    ("notify-sender", ["worker", "notify-sender"]),
]


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="migrate, then run the API and its workers")
    run.set_defaults(func=cmd_run)


def cmd_run(_: argparse.Namespace) -> None:
    """With the Kafka fan-out (the default) a local Tansu broker is started unless
    KAFKA_BOOTSTRAP_SERVERS is set."""
    config = settings()
    dbname, applied = bootstrap.migrate(config, say)
    say(f"database {dbname}: {len(applied)} migration(s) applied {applied}")
    kafka = config.fanout == "kafka"
    env = dict(os.environ)
    with (
        ExitStack() as stack,
        bootstrap.local_kafka(config, say) if kafka else nullcontext(None) as broker,
    ):
        if broker is not None:
            env["KAFKA_BOOTSTRAP_SERVERS"] = broker
        # One Redis for every notification process: found or started once, here.
        redis = stack.enter_context(local_redis(config, say))
        env["REDIS_URL"] = redis

        def spawn(args: Sequence[str]) -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, "-m", "workers.cli", *args], env=env)  # noqa: S603

        supervise([*(FANOUT if kafka else DIRECT), *ALWAYS], spawn, stop_on_signals())
