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


def checkpoint_directory(settings: Settings) -> CheckpointDirectory:
    root = settings.audit_checkpoint_dir or Path(settings.state_dir) / "checkpoints"
    return CheckpointDirectory(root, settings.audit_origin)


def seals(settings: Settings, app: Scheduling, pool: ConnectionPool[Any]) -> PostgresSeals:
    return PostgresSeals(pool, events_table(app), settings.audit_origin)


@dataclass(frozen=True)
class Sealer:
    store: PostgresSeals
    signer: NoteSignerKey
    files: CheckpointDirectory
    policy: CheckpointPolicy
    wait_for_new_events: Callable[[float], bool]


def sealer(
    settings: Settings,
    app: Scheduling,
    pool: ConnectionPool[Any],
    wait_for_new_events: Callable[[float], bool],
) -> Sealer:
    policy = CheckpointPolicy(settings.audit_checkpoint_every, settings.audit_checkpoint_seconds)
    return Sealer(
        seals(settings, app, pool),
        signing_key(settings),
        checkpoint_directory(settings),
        policy,
        wait_for_new_events,
    )


@dataclass(frozen=True)
class AuditLog:
    """The sealed log for `audit export` and `audit verify --live`."""

    store: PostgresSeals
    files: CheckpointDirectory
    settings: Settings


def audit_log(settings: Settings, app: Scheduling, pool: ConnectionPool[Any]) -> AuditLog:
    return AuditLog(seals(settings, app, pool), checkpoint_directory(settings), settings)
