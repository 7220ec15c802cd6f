"""The one logging setup every process calls first (`slotwise` for the workers and tasks, the
same for `slotwise serve`, which also hands uvicorn no logging config of its own).

Every line, from structlog loggers and from standard-library ones (uvicorn, eventsourcing,
confluent-kafka's callbacks), goes through the same processors: context variables (correlation
id, actor id bound per request), level, logger name, UTC timestamp, then the redaction in
`redaction.py`, then a renderer: JSON lines in production and test mode, readable console
lines in dev mode (`SLOTWISE_LOG_FORMAT=json|console` overrides; `SLOTWISE_LOG_LEVEL` sets the
level). Uncaught exceptions, in the main thread or any other, are logged the same way rather
than printed by Python with their messages."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import structlog

from infra.observability.redaction import redact_fields, safe_exceptions

LogFormat = Literal["json", "console"]
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class LogSettingsError(ValueError):
    """SLOTWISE_LOG_FORMAT or SLOTWISE_LOG_LEVEL has a value we do not know."""


@dataclass(frozen=True)
class LogSettings:
    format: LogFormat = "json"
    level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogSettings:
        """Read apart from `Settings`, so a process whose settings are refused still logs."""
        default: LogFormat = "console" if env.get("SLOTWISE_MODE") == "dev" else "json"
        chosen = env.get("SLOTWISE_LOG_FORMAT", default)
        level = env.get("SLOTWISE_LOG_LEVEL", "INFO").upper()
        if chosen not in ("json", "console"):
            raise LogSettingsError(f"SLOTWISE_LOG_FORMAT must be json or console, not {chosen!r}")
        if level not in LEVELS:
            raise LogSettingsError(f"SLOTWISE_LOG_LEVEL must be one of {', '.join(LEVELS)}")
        return cls("json" if chosen == "json" else "console", level)


def processors() -> list[Any]:
    """What every event passes before rendering: structlog's and the standard library's."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        safe_exceptions,
        redact_fields,
    ]


def configure_logging(settings: LogSettings, stream: Any = None) -> None:
    """Route every logger of this process through the redacting processors to `stream`
    (stderr by default). Idempotent: a second call replaces the first's handler."""
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if settings.format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.level)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written, not when logging was set up
    (a CLI command run in-process under a test runner that swaps stderr per test)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


_uncaught = structlog.stdlib.get_logger("slotwise.uncaught")


def _log_uncaught(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    try:
        _uncaught.critical("uncaught exception", exc_info=(kind, error, tb))
    except Exception:
        _last_resort(kind)


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or args.exc_type is SystemExit:
        return
    thread = args.thread.name if args.thread else None
    try:
        _uncaught.critical(
            "uncaught exception in a thread",
            thread=thread,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
    except Exception:
        _last_resort(args.exc_type)


def _last_resort(kind: type[BaseException]) -> None:
    # Logging itself failed: Python's default hook would print the message; say the class only.
    print(f"uncaught {kind.__module__}.{kind.__qualname__} (logging failed)", file=sys.stderr)
