"""A throwaway database and the fixtures every benchmark needs."""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.persistence import Transcoding

from commands.context import CommandContext
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.ports import KeyStore
from commands.scheduling import Scheduling
from commands.slots.messages import CreateSlot
from domain.actor import Actor, Role
from infra.crypto.wiring import PersonalDataKeys, personal_data_keys
from infra.devstack.postgres_server import find_or_start_postgres
from infra.postgres.database import Database, eventstore_env, prepare
from infra.postgres.server import create_database, drop_database
from infra.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
STAFF = CommandContext(Actor(uuid.uuid4(), Role.STAFF))
# Each bench database's personal-data keys (the development KEK), while it exists.
_KEYS: dict[str, PersonalDataKeys] = {}


@contextmanager
def bench_database() -> Iterator[Database]:
    location = find_or_start_postgres(
        os.environ.get("DATABASE_URL"), ROOT / ".state", progress=lambda _: None
    )
    name = f"slotwise_bench_{uuid.uuid4().hex[:10]}"
    create_database(location.conninfo, name)
    db = Database(location, name)
    prepare(db)
    try:
        settings = Settings.from_env({"SLOTWISE_MODE": "test"})
        with personal_data_keys(settings, db.conninfo) as keys:
            _KEYS[name] = keys
            yield db
    finally:
        _KEYS.pop(name, None)
        drop_database(location.conninfo, name)


def scheduling(
    db: Database,
    pool_size: int = 8,
    personal_data: Transcoding | None = None,
    keys: KeyStore | None = None,
) -> Scheduling:
    """Scheduling as every process wires it (personal data encrypted under the database's keys),
    or with the given personal-data transcoding and keys (the privacy bench's on/off sides)."""
    if personal_data is None:
        return _KEYS[db.dbname].bind(Scheduling)(eventstore_env(db, pool_size))
    return Scheduling(eventstore_env(db, pool_size), personal_data=personal_data, keys=keys)


@dataclass(frozen=True)
class Bookable:
    patient_id: uuid.UUID
    slot_id: uuid.UUID


def make_bookables(app: Scheduling, count: int) -> list[Bookable]:
    """One provider, `count` one-seat slots and `count` patients: each booking is independent."""
    provider = app.register_provider(
        RegisterProvider(profile=ProviderProfile(name="Bench", time_zone="UTC")), STAFF
    ).id
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    out = []
    for n in range(count):
        patient = app.register_patient(
            RegisterPatient(details=PatientDetails(name=f"P{n}", time_zone="UTC")), STAFF
        ).id
        at = start + timedelta(minutes=15 * n)
        slot = app.create_slot(
            CreateSlot(provider_id=provider, start=at, end=at + timedelta(minutes=15)), STAFF
        ).id
        out.append(Bookable(patient, slot))
    return out


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
