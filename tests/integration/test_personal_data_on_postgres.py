"""Crypto-shredding on PostgreSQL: data keys in their own schema, wrapped by the KEK; the event
store's rows hold no clear personal value; destroying a key makes every read the tombstone, at
once in the process that destroyed it; a KEK rotation re-wraps keys and nothing else."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from commands.application import SlotwiseApplication
from commands.ports import KeyStore
from domain.personal import PersonalData, SubjectErasedError
from infra.crypto.cache import CachedKeyStore
from infra.crypto.kek import KeyEncryptionKey, KeyRing, WrongKekError
from infra.crypto.key_store import PostgresKeyStore, rotate_kek, verify_key_ring
from infra.crypto.transcoding import PersonalDataAsCiphertext
from infra.postgres.database import Database
from tests.charts import CLEAR_VALUES, Chart, open_chart

KEK_1 = KeyEncryptionKey(1, os.urandom(32))
KEK_2 = KeyEncryptionKey(2, os.urandom(32))


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(database.conninfo, min_size=1, max_size=4, open=True) as opened:
        yield opened


def cached(pool: ConnectionPool[Any], ring: KeyRing) -> CachedKeyStore:
    return CachedKeyStore(PostgresKeyStore(pool, ring), ttl_seconds=3600)


MakeApp = Callable[[KeyStore], SlotwiseApplication]


@pytest.fixture
def application(store_env: dict[str, str]) -> Iterator[MakeApp]:
    """Applications on the module's event store, each with the key store given; closed after."""
    made: list[SlotwiseApplication] = []

    def make(keys: KeyStore) -> SlotwiseApplication:
        made.append(SlotwiseApplication(store_env, personal_data=PersonalDataAsCiphertext(keys)))
        return made[-1]

    yield make
    for app in made:
        app.close()


@pytest.fixture
def keys(pool: ConnectionPool[Any]) -> CachedKeyStore:
    return cached(pool, KeyRing(KEK_1))


@pytest.fixture
def app(application: MakeApp, keys: CachedKeyStore) -> SlotwiseApplication:
    return application(keys)


@pytest.fixture
def reader(application: MakeApp, pool: ConnectionPool[Any]) -> Callable[[], SlotwiseApplication]:
    """Another process, as it were: an application with a key cache of its own, empty."""
    return lambda: application(cached(pool, KeyRing(KEK_1)))


def key_row(database: Database, subject: UUID) -> tuple[Any, ...] | None:
    with psycopg.connect(database.conninfo) as conn:
        return conn.execute(
            "SELECT wrapped, kek_version, destroyed_at FROM slotwise_keys.data_keys "
            "WHERE subject_id = %s",
            (subject,),
        ).fetchone()


def test_the_data_keys_live_in_a_schema_of_their_own(database: Database) -> None:
    with psycopg.connect(database.conninfo) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_name IN ('data_keys', 'slotwise_events')"
        ).fetchall()
    assert ("slotwise_keys", "data_keys") in tables
    assert ("slotwise_keys", "slotwise_events") not in tables


def test_the_event_store_rows_hold_no_clear_personal_value(
    database: Database, app: SlotwiseApplication, reader: Callable[[], SlotwiseApplication]
) -> None:
    patient = uuid4()
    chart = open_chart(patient)
    app.save(chart)

    with psycopg.connect(database.conninfo) as conn:
        rows = conn.execute(
            "SELECT state FROM slotwise_events WHERE originator_id = %s", (chart.id,)
        ).fetchall()
    raw = b"".join(bytes(row[0]) for row in rows)
    assert len(rows) == 2
    for value in CLEAR_VALUES:
        assert value.encode() not in raw
    assert patient.hex.encode() in raw  # ids stay plain

    wrapped, version, destroyed = key_row(database, patient) or (None, None, None)
    assert version == 1
    assert destroyed is None
    assert len(bytes(wrapped)) == 12 + 32 + 16  # nonce, the data key encrypted, tag

    loaded: Chart = reader().repository.get(chart.id)
    assert isinstance(loaded, Chart)
    assert loaded.details == chart.details
    assert loaded.notes == chart.notes


def test_destroying_a_key_makes_every_read_the_tombstone(
    database: Database,
    app: SlotwiseApplication,
    keys: CachedKeyStore,
    reader: Callable[[], SlotwiseApplication],
) -> None:
    grace, alan = open_chart(uuid4()), open_chart(uuid4())
    app.save(grace, alan)
    assert app.repository.get(grace.id).name == grace.name  # and its key is cached now
    assert grace.patient_id in keys

    keys.destroy(grace.patient_id)

    assert grace.patient_id not in keys
    erased = PersonalData.erased(grace.patient_id)
    for one in (app, reader()):
        loaded: Chart = one.repository.get(grace.id)
        assert loaded.name == erased
        assert loaded.details["symptoms"] == [erased]
        assert loaded.notes == [erased]
        assert one.repository.get(alan.id).name == alan.name
    wrapped, version, destroyed = key_row(database, grace.patient_id) or (1, 1, None)
    assert (wrapped, version) == (None, None)
    assert destroyed is not None
    with pytest.raises(SubjectErasedError):
        app.save(open_chart(grace.patient_id))


def test_a_subject_erased_before_any_key_was_made_never_gets_one(
    pool: ConnectionPool[Any],
) -> None:
    keys = PostgresKeyStore(pool, KeyRing(KEK_1))
    subject = uuid4()
    keys.destroy(subject)
    keys.destroy(subject)  # idempotent
    assert keys.get(subject) is None
    with pytest.raises(SubjectErasedError):
        keys.create(subject)


def test_concurrent_stores_agree_on_one_key_per_subject(pool: ConnectionPool[Any]) -> None:
    subject = uuid4()
    first = PostgresKeyStore(pool, KeyRing(KEK_1)).create(subject)
    assert PostgresKeyStore(pool, KeyRing(KEK_1)).create(subject) == first


def test_kek_rotation_rewraps_every_key_and_old_events_still_read(
    database: Database,
    application: MakeApp,
    pool: ConnectionPool[Any],
) -> None:
    before = application(cached(pool, KeyRing(KEK_1)))
    charts = [open_chart(uuid4()) for _ in range(3)]
    before.save(*charts)
    with psycopg.connect(database.conninfo) as conn:
        events_before = conn.execute("SELECT count(*), sum(length(state)) FROM slotwise_events")
        counted_before = events_before.fetchone()

    rotating = KeyRing(KEK_2, retired=[KEK_1])
    assert rotate_kek(pool, rotating, batch_size=2) >= 3
    assert rotate_kek(pool, rotating) == 0  # nothing is left: a rerun is a no-op

    with psycopg.connect(database.conninfo) as conn:
        versions = conn.execute(
            "SELECT DISTINCT kek_version FROM slotwise_keys.data_keys WHERE wrapped IS NOT NULL"
        ).fetchall()
        counted_after = conn.execute(
            "SELECT count(*), sum(length(state)) FROM slotwise_events"
        ).fetchone()
    assert versions == [(2,)]
    assert counted_after == counted_before  # events are never re-encrypted

    only_new = KeyRing(KEK_2)
    verify_key_ring(pool, only_new)
    after = application(cached(pool, only_new))
    for chart in charts:
        assert after.repository.get(chart.id).notes == chart.notes

    with pytest.raises(WrongKekError):
        verify_key_ring(pool, KeyRing(KeyEncryptionKey(2, os.urandom(32))))
