"""`slotwise run`: migrate, then run the API and its workers as child processes until
interrupted or until one of them exits."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import nullcontext
from typing import Any

from infra import bootstrap
from workers.cli.process import say, settings, stop_on_signals

DIRECT = [["worker", "project", "scheduling", "analytics", "search", "--source", "log"]]
FANOUT = [
    ["worker", "relay"],
    ["worker", "project", "scheduling", "--source", "kafka"],
    ["worker", "project", "analytics", "--source", "kafka"],
    # Search loads each aggregate from the event store, so it reads the log directly.
    ["worker", "project", "search", "--source", "log"],
]

ALWAYS = [["worker", "holds"], ["worker", "seal"]]


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
    with bootstrap.local_kafka(config, say) if kafka else nullcontext(None) as broker:
        if broker is not None:
            env["KAFKA_BOOTSTRAP_SERVERS"] = broker
        children = [
            subprocess.Popen([sys.executable, "-m", "workers.cli", *args], env=env)  # noqa: S603
            for args in [*(FANOUT if kafka else DIRECT), *ALWAYS, ["serve"]]
        ]
        stopping = stop_on_signals()
        while not stopping.wait(0.5):
            if any(child.poll() is not None for child in children):
                say("a child process exited; stopping the rest")
                break
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=20)
