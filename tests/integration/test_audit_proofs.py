"""The auditor's proofs (projections/audit/proofs.py) over the sealed log on PostgreSQL: an
inclusion proof of a real stored event, found by position or by aggregate id and version,
verifies against the signed checkpoint's root, and consistency links two signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from domain.errors import ValidationError
from infra.crypto.note import NoteVerifiers
from infra.postgres.database import Database, eventstore_env
from infra.postgres.seals import PostgresSeals
from projections.audit.checkpoint import Checkpoint, open_checkpoint
from projections.audit.merkle import verify_consistency, verify_inclusion
from projections.audit.proofs import AuditProofs, SignedCheckpoint
from projections.audit.sealing import CheckpointPolicy
from tests.audit_support import SIGNER, fill, seal_to_end, store_on
from tests.keys import keyed_scheduling

ORIGIN = "slotwise.test/proofs"
EVERY_5 = CheckpointPolicy(every_events=5, every_seconds=3600)


@pytest.fixture(scope="module")
def store(database: Database) -> Iterator[PostgresSeals]:
    with keyed_scheduling(database) as keyed:
        app = keyed(eventstore_env(database, 2))
        try:
            fill(app, 4)
            with ConnectionPool(database.conninfo, min_size=1, max_size=2) as pool:
                sealed = store_on(app, pool, ORIGIN)
                assert len(seal_to_end(sealed, EVERY_5)) >= 2
                yield sealed
        finally:
            app.close()


def opened(checkpoint: SignedCheckpoint | None) -> Checkpoint:
    assert checkpoint is not None
    return open_checkpoint(checkpoint.note, NoteVerifiers([SIGNER.verifier()]))


def test_every_sealed_event_is_proved_in_the_latest_signed_tree(store: PostgresSeals) -> None:
    proofs = AuditProofs(store)
    latest = opened(proofs.latest())
    for seal in store.seals():
        if seal.index >= latest.size:
            continue
        proof = proofs.inclusion(seal.position)
        assert proof.tree_size == latest.size
        assert opened(proof.checkpoint) == latest
        leaf = bytes.fromhex(proof.leaf_hash.hex[0])
        path = [bytes.fromhex(h) for h in proof.audit_path.hex]
        verify_inclusion(proof.leaf_index, latest.size, leaf, path, latest.root)


def test_an_event_found_by_aggregate_and_version_is_proved_in_an_older_tree(
    store: PostgresSeals,
) -> None:
    proofs = AuditProofs(store)
    first = store.checkpoints()[0]
    seal = next(s for s in store.seals() if s.index == 2)
    record = next(r for r in store.records() if r.position == seal.position)
    proof = proofs.inclusion(size=first.size, aggregate_id=record.originator_id, version=1)
    assert proof.position == store.position_of(record.originator_id, 1)
    old = opened(proof.checkpoint)
    leaf = bytes.fromhex(proof.leaf_hash.hex[0])
    verify_inclusion(
        proof.leaf_index, old.size, leaf, [bytes.fromhex(h) for h in proof.audit_path.hex], old.root
    )


def test_consistency_links_the_first_and_latest_signed_roots(store: PostgresSeals) -> None:
    proofs = AuditProofs(store)
    first = opened(SignedCheckpoint.of(store.checkpoints()[0]))
    proof = proofs.consistency(first.size)
    latest = opened(proof.checkpoint)
    verify_consistency(
        first.size,
        latest.size,
        first.root,
        latest.root,
        [bytes.fromhex(h) for h in proof.proof.hex],
    )


def test_a_size_beyond_the_latest_signed_checkpoint_is_refused(store: PostgresSeals) -> None:
    latest = AuditProofs(store).latest().size
    with pytest.raises(ValidationError, match=f"size={latest + 1} .* {latest}"):
        AuditProofs(store).inclusion(next(store.seals()).position, size=latest + 1)
