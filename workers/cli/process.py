"""What every command's process starts with: its settings, a way to say what it does, and a
stop flag that SIGINT and SIGTERM set."""

from __future__ import annotations

import os
import signal
import sys
import threading

from infra.settings import Settings


def settings() -> Settings:
    """The settings, from the environment (a SettingsError ends the command)."""
    return Settings.from_env(os.environ)


def say(message: str) -> None:
    print(f"slotwise: {message}", file=sys.stderr, flush=True)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: the loops wait on it and end."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
