"""What every command's process starts with: its settings, a way to say what it does, and a
stop flag that SIGINT and SIGTERM set."""

from __future__ import annotations

import os
import signal
import threading

import structlog

from infra.settings import Settings

_progress = structlog.stdlib.get_logger("slotwise")


def settings() -> Settings:
    """The settings, from the environment (a SettingsError ends the command)."""
    return Settings.from_env(os.environ)


def say(message: str) -> None:
    """Progress for whoever runs the command, on the process's log (readable lines in dev mode,
    JSON in production): one stream, so a log shipper never meets a stray plain line."""
    _progress.info(message)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: the loops wait on it and end."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
