"""The auditor endpoints at the HTTP edge, on an in-memory sealed log: who may call them, and
that the proofs they answer verify against the signed checkpoint's root."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import mint_token
from api.deps import Services
from domain.actor import Role
from infra.crypto.note import NoteSignerKey, NoteVerifiers
from infra.settings import DEV_SIGNING_KEY, Settings
from projections.audit.checkpoint import Checkpoint, open_checkpoint
from projections.audit.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from projections.audit.proofs import AuditProofs
from projections.audit.sealing import Seal
from tests.builders import in_memory_app
from tests.fakes import FixedClock, FixedPositions, RecordingSearch, StillAnalytics, StillQueries

ORIGIN = "slotwise.test/log"
KEY = NoteSignerKey.development(ORIGIN)
AGGREGATE = uuid.UUID(int=7)


@dataclass(frozen=True)
class Note:
    size: int
    note: str


class MemoryLog:
    """Leaves 0..n-1 are the events at positions 10, 20, ...; checkpoints at the given sizes."""

    def __init__(self, leaves: int, signed: tuple[int, ...]) -> None:
        self.leaves = [leaf_hash(f"event {i}".encode()) for i in range(leaves)]
        self.notes = {
            size: Note(size, KEY.sign(Checkpoint(ORIGIN, size, root_of(self.leaves[:size])).body()))
            for size in signed
        }

    def latest_checkpoint(self) -> Note | None:
        return self.notes[max(self.notes)] if self.notes else None

    def checkpoint_at(self, size: int) -> Note | None:
        return self.notes.get(size)

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return self.leaves[start:end]

    def nodes(self, blocks: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {}  # no stored subtree roots: every one is computed from the leaves

    def seal_at(self, position: int) -> Seal | None:
        index, rest = divmod(position, 10)
        if rest or not 1 <= index <= len(self.leaves):
            return None
        return Seal(index - 1, position, self.leaves[index - 1], b"")

    def position_of(self, originator_id: Any, version: int) -> int | None:
        return 10 * version if originator_id == AGGREGATE else None


def client_for(log: MemoryLog) -> Iterator[TestClient[Any]]:
    clock = FixedClock(datetime(2030, 1, 7, 9, 0, tzinfo=UTC))
    services = Services(
        scheduling=in_memory_app(clock),
        queries=StillQueries(),
        analytics=StillAnalytics(),
        search=RecordingSearch(),
        positions=FixedPositions(head=10),
        clock=clock,
        read_wait_seconds=0.01,
        max_page_size=200,
        audit=AuditProofs(log),
    )
    with TestClient(create_app(Settings.from_env({"SLOTWISE_MODE": "test"}), services)) as c:
        yield c


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    yield from client_for(MemoryLog(leaves=13, signed=(5, 11)))


def auditor(role: Role = Role.AUDITOR) -> dict[str, str]:
    token = mint_token(DEV_SIGNING_KEY, "slotwise", role, uuid.uuid4())
    return {"Authorization": f"Bearer {token}"}


def signed_root(body: dict[str, Any]) -> Checkpoint:
    return open_checkpoint(body["note"], NoteVerifiers([KEY.verifier()]))


def test_latest_checkpoint_is_the_signed_note_and_its_parts(client: TestClient[Any]) -> None:
    body = client.get("/v1/audit/checkpoints/latest", headers=auditor()).json()
    checkpoint = signed_root(body)
    assert (body["origin"], body["size"]) == (ORIGIN, 11)
    assert base64.b64decode(body["root"]) == checkpoint.root


@pytest.mark.parametrize("role", [Role.PATIENT, Role.STAFF, Role.ANALYST, Role.PROVIDER])
def test_only_auditors_may_read_the_log_proofs(client: TestClient[Any], role: Role) -> None:
    for path in ("/checkpoints/latest", "/proofs/inclusion?position=10", "/proofs/consistency"):
        assert client.get("/v1/audit" + path, headers=auditor(role)).status_code == 403


def test_inclusion_proof_verifies_against_the_signed_root(client: TestClient[Any]) -> None:
    body = client.get("/v1/audit/proofs/inclusion?position=40", headers=auditor()).json()
    assert (body["leaf_index"], body["tree_size"]) == (3, 11)
    checkpoint = signed_root(body["checkpoint"])
    path = [bytes.fromhex(h) for h in body["audit_path"]["hex"]]
    leaf = base64.b64decode(body["leaf_hash"]["b64"][0])
    verify_inclusion(3, checkpoint.size, leaf, path, checkpoint.root)
    by_id = client.get(
        f"/v1/audit/proofs/inclusion?aggregate_id={AGGREGATE}&version=4&size=5", headers=auditor()
    ).json()
    assert (by_id["position"], by_id["tree_size"]) == (40, 5)
    old = signed_root(by_id["checkpoint"])
    verify_inclusion(3, 5, leaf, [bytes.fromhex(h) for h in by_id["audit_path"]["hex"]], old.root)


def test_consistency_proof_links_the_two_signed_roots(client: TestClient[Any]) -> None:
    old = signed_root(client.get("/v1/audit/checkpoints/latest", headers=auditor()).json())
    body = client.get("/v1/audit/proofs/consistency?from=5", headers=auditor()).json()
    new = signed_root(body["checkpoint"])
    proof = [bytes.fromhex(h) for h in body["proof"]["hex"]]
    first = root_of(MemoryLog(13, ()).leaves[:5])
    verify_consistency(5, new.size, first, new.root, proof)
    assert old.size == new.size == 11


def test_a_size_beyond_the_signed_one_is_a_problem_naming_it(client: TestClient[Any]) -> None:
    response = client.get("/v1/audit/proofs/inclusion?position=10&size=12", headers=auditor())
    assert response.status_code == 422
    assert "size=12" in response.json()["detail"]
    assert "11" in response.json()["detail"]
    response = client.get("/v1/audit/proofs/consistency?from=3&to=99", headers=auditor())
    assert response.status_code == 422
    assert "to=99" in response.json()["detail"]
    response = client.get("/v1/audit/proofs/inclusion?position=120", headers=auditor())
    assert response.status_code == 422
    assert "leaf 11" in response.json()["detail"]
    assert client.get("/v1/audit/proofs/inclusion?position=15", headers=auditor()).status_code == (
        404
    )


def test_before_any_checkpoint_the_latest_is_not_found() -> None:
    for client in client_for(MemoryLog(leaves=3, signed=())):
        response = client.get("/v1/audit/checkpoints/latest", headers=auditor())
        assert response.status_code == 404
