"""Crypto-shredding keeps the tamper-evident log valid: the seals hash the events' stored bytes,
which hold the patient's personal values as ciphertext, so destroying the patient's key changes
no stored byte and the offline verifier passes before and after an erasure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from commands.directory.messages import ErasePatient
from commands.scheduling import Scheduling
from domain.patient import ErasureReason, Patient
from infra.audit.export import read_records, read_seals, write_export
from infra.audit.files import read_notes
from infra.crypto.note import NoteVerifiers
from infra.postgres.database import Database, eventstore_env
from infra.postgres.server import PostgresLocation
from projections.audit.sealing import CheckpointPolicy
from projections.audit.verify import Report, verify
from tests.audit_support import SIGNER, seal_to_end, store_on
from tests.builders import (
    as_staff,
    create_slot,
    patient_books,
    patient_registers,
    register_provider,
)
from tests.databases import database_of_its_own
from tests.keys import keyed_scheduling

ORIGIN = "slotwise.test/erasure"
EVERY_4 = CheckpointPolicy(every_events=4, every_seconds=3600)
NAME = "Erin Erasable-Ngata"


@pytest.fixture
def app(pg_location: PostgresLocation) -> Iterator[tuple[Database, Scheduling]]:
    with (
        database_of_its_own(pg_location, "audit_erasure") as db,
        keyed_scheduling(db) as keyed,
    ):
        application = keyed(eventstore_env(db, 2))
        try:
            yield db, application
        finally:
            application.close()


def export_and_verify(app: Scheduling, pool: ConnectionPool[Any], to: Path) -> Report:
    store = store_on(app, pool, ORIGIN)
    seal_to_end(store, EVERY_4)
    notes = [(c.size, c.note) for c in store.checkpoints()]
    write_export(to, ORIGIN, store.records(), store.seals(), notes)
    verifier = NoteVerifiers([SIGNER.verifier()])
    return verify(
        read_records(to), read_seals(to), read_notes(to / "checkpoints"), verifier, origin=ORIGIN
    )


def stored_states(directory: Path) -> dict[int, bytes]:
    return {r.position: r.state for r in read_records(directory)}


def test_erasing_a_patient_leaves_every_sealed_event_and_checkpoint_valid(
    app: tuple[Database, Scheduling], tmp_path: Path
) -> None:
    db, log = app
    provider_id = register_provider(log)
    patient_id = patient_registers(log, name=NAME)
    patient_books(
        log,
        patient_id,
        create_slot(log, provider_id, start=datetime.now(UTC) + timedelta(days=2)),
        reason="a private reason",
    )
    other = patient_registers(log, name="Someone Else")

    with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
        before = export_and_verify(log, pool, tmp_path / "before")
        assert before.ok, before.findings
        states_before = stored_states(tmp_path / "before")
        assert not any(NAME.encode() in s for s in states_before.values()), "stored encrypted"

        erase = ErasePatient(patient_id=patient_id, reason=ErasureReason.PATIENT_REQUEST)
        log.erase_patient(erase, as_staff())
        erased: object = log.repository.get(patient_id)
        assert isinstance(erased, Patient)
        assert erased.erased
        assert "name" not in erased.details  # and its stored ciphertext can no longer be read

        after = export_and_verify(log, pool, tmp_path / "after")

    assert after.ok, after.findings
    assert after.events > before.events  # the erasure is an event of its own, sealed too
    states_after = stored_states(tmp_path / "after")
    # Not one stored byte of the events sealed before the erasure changed.
    assert {p: states_after[p] for p in states_before} == states_before
    assert [c.size for c in after.checkpoints][: len(before.checkpoints)] == [
        c.size for c in before.checkpoints
    ]
    still: object = log.repository.get(other)
    assert isinstance(still, Patient)
    assert not still.erased
