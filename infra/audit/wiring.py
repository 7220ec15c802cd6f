"""What the sealer, the audit CLI and the API's audit routes are made of, given the database
pieces infra.bootstrap already built: the signing key from the settings (the development key only
in dev and test mode), the trusted verifier keys, the store and the checkpoint directory."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from infra.audit.files import CheckpointDirectory
from infra.crypto.note import NoteKeyError, NoteSignerKey, NoteVerifiers
from infra.postgres.access import ACCESS_TABLE
from infra.postgres.audit_index import IndexBackfill, write_index
from infra.postgres.database import events_table
from infra.postgres.seals import PostgresSeals
from infra.settings import Settings, SettingsError
from projections.audit.sealing import CheckpointPolicy


def signing_key(settings: Settings) -> NoteSignerKey:
    if settings.audit_signing_key:
        try:
            return NoteSignerKey.parse(settings.audit_signing_key)
        except NoteKeyError as error:
            raise SettingsError(f"SLOTWISE_AUDIT_SIGNING_KEY: {error}") from None
    if settings.mode in ("dev", "test"):
        return NoteSignerKey.development(settings.audit_origin)
    msg = "SLOTWISE_AUDIT_SIGNING_KEY is not set: make one with `slotwise audit keygen NAME`"
    raise SettingsError(msg)


def verifiers(settings: Settings, keys: Iterable[str] = (), required: Iterable[str] = ()) -> Any:
    """`keys` (verifier keys' text), else SLOTWISE_AUDIT_TRUSTED_KEYS, else the signing key's."""
    chosen = list(keys) or list(settings.audit_trusted_keys)
    if not chosen:
        chosen = [signing_key(settings).verifier().text()]
    try:
        return NoteVerifiers.parse(chosen, required)
    except NoteKeyError as error:
        raise SettingsError(str(error)) from None


def checkpoint_directory(settings: Settings, origin: str | None = None) -> CheckpointDirectory:
    root = settings.audit_checkpoint_dir or Path(settings.state_dir) / "checkpoints"
    return CheckpointDirectory(root, origin or settings.audit_origin)


def seals(settings: Settings, app: Scheduling, pool: ConnectionPool[Any]) -> PostgresSeals:
    """The event log's seals; its sealer also writes the auditor's index of it."""
    return PostgresSeals(pool, events_table(app), settings.audit_origin, write_index)


def access_seals(settings: Settings, pool: ConnectionPool[Any]) -> PostgresSeals:
    """The access records' seals: the same tables and code, an origin of their own."""
    return PostgresSeals(pool, ACCESS_TABLE, settings.audit_access_origin)


LOGS = ("events", "access")


def log_seals(
    settings: Settings, app: Scheduling, pool: ConnectionPool[Any], log: str
) -> PostgresSeals:
    """The seals of `log`: "events" (the event store) or "access" (the access records)."""
    return access_seals(settings, pool) if log == "access" else seals(settings, app, pool)


@dataclass(frozen=True)
class Sealer:
    store: PostgresSeals
    signer: NoteSignerKey
    files: CheckpointDirectory
    policy: CheckpointPolicy
    wait_for_new_events: Callable[[float], Any]
    # How long a missing position may stay missing before the sealer takes the lock that
    # confirms it is a gap: 0 for the event store (its inserts commit in order), longer for
    # the access records, whose concurrent inserts leave short-lived holes all the time.
    gap_patience: float = 0.0


def sealer(
    settings: Settings,
    app: Scheduling,
    pool: ConnectionPool[Any],
    wait_for_new_events: Callable[[float], Any],
    log: str = "events",
) -> Sealer:
    policy = CheckpointPolicy(settings.audit_checkpoint_every, settings.audit_checkpoint_seconds)
    store = log_seals(settings, app, pool, log)
    return Sealer(
        store,
        signing_key(settings),
        checkpoint_directory(settings, store.origin),
        policy,
        wait_for_new_events,
        gap_patience=1.0 if log == "access" else 0.0,
    )


@dataclass(frozen=True)
class AuditLog:
    """The sealed log for `audit export` and `audit verify --live`."""

    store: PostgresSeals
    files: CheckpointDirectory
    settings: Settings
    index: IndexBackfill | None = None  # the event log's index backfill (`audit reindex`)


def audit_log(
    settings: Settings, app: Scheduling, pool: ConnectionPool[Any], log: str = "events"
) -> AuditLog:
    store = log_seals(settings, app, pool, log)
    index = None if log == "access" else IndexBackfill(pool, events_table(app), store.origin)
    return AuditLog(store, checkpoint_directory(settings, store.origin), settings, index)
