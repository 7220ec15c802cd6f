"""Proofs for auditors: the latest signed checkpoint, inclusion proofs of stored events and
consistency proofs between tree sizes, computed from the sealed leaf hashes (RFC 6962).

`SealedLog` is the read port; infra/postgres/seals.py's `PostgresSeals` satisfies it. A proof
is only given against a tree size no larger than the latest signed checkpoint, so an auditor can
check it against a root the log's key has signed."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.errors import NotFoundError, ValidationError
from projections.audit.checkpoint import Checkpoint
from projections.audit.merkle import consistency_proof, inclusion_proof, stored_subtrees
from projections.audit.sealing import Seal


class StoredNote(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def note(self) -> str: ...


class SealedLog(Protocol):
    def latest_checkpoint(self) -> StoredNote | None: ...
    def checkpoint_at(self, size: int) -> StoredNote | None: ...
    def leaf_hashes(self, start: int, end: int) -> list[bytes]: ...
    def nodes(self, blocks: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]: ...
    def seal_at(self, position: int) -> Seal | None: ...
    def position_of(self, originator_id: Any, version: int) -> int | None: ...


@dataclass(frozen=True)
class SignedCheckpoint:
    note: str  # the C2SP signed note, verbatim
    origin: str
    size: int
    root: str  # base64, as in the note

    @classmethod
    def of(cls, stored: StoredNote) -> SignedCheckpoint:
        body = stored.note.split("\n\n", 1)[0] + "\n"
        parsed = Checkpoint.parse(body)
        return cls(stored.note, parsed.origin, parsed.size, base64.b64encode(parsed.root).decode())


@dataclass(frozen=True)
class Hashes:
    b64: list[str]
    hex: list[str]

    @classmethod
    def of(cls, hashes: list[bytes]) -> Hashes:
        return cls([base64.b64encode(h).decode() for h in hashes], [h.hex() for h in hashes])


@dataclass(frozen=True)
class InclusionProof:
    position: int
    leaf_index: int
    leaf_hash: Hashes
    tree_size: int
    audit_path: Hashes
    checkpoint: SignedCheckpoint | None  # the signed checkpoint of `tree_size`, if one was signed


@dataclass(frozen=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    proof: Hashes
    checkpoint: SignedCheckpoint | None  # the signed checkpoint of `to_size`, if one was signed


class AuditProofs:
    def __init__(self, log: SealedLog) -> None:
        self._log = log

    def latest(self) -> SignedCheckpoint:
        stored = self._log.latest_checkpoint()
        if stored is None:
            raise NotFoundError("no checkpoint has been signed yet")
        return SignedCheckpoint.of(stored)

    def _signed_size(self, size: int | None, name: str) -> tuple[int, SignedCheckpoint | None]:
        latest = self.latest()
        if size is None:
            return latest.size, latest
        if size > latest.size:
            raise ValidationError(
                f"{name}={size} is beyond the latest signed checkpoint size {latest.size}"
            )
        stored = self._log.checkpoint_at(size)
        return size, SignedCheckpoint.of(stored) if stored else None

    def inclusion(
        self,
        position: int | None = None,
        size: int | None = None,
        aggregate_id: Any = None,
        version: int | None = None,
    ) -> InclusionProof:
        if position is None:
            if aggregate_id is None or version is None:
                raise ValidationError("give position, or aggregate_id and version")
            position = self._log.position_of(aggregate_id, version)
            if position is None:
                raise NotFoundError("no stored event has that aggregate id and version")
        tree_size, checkpoint = self._signed_size(size, "size")
        seal = self._log.seal_at(position)
        if seal is None:
            raise NotFoundError(f"position {position} is not sealed")
        if seal.index >= tree_size:
            raise ValidationError(
                f"position {position} is leaf {seal.index}, not in a tree of size {tree_size}"
            )
        path = inclusion_proof(
            stored_subtrees(self._log.nodes, self._log.leaf_hashes), seal.index, tree_size
        )
        return InclusionProof(
            position, seal.index, Hashes.of([seal.leaf]), tree_size, Hashes.of(path), checkpoint
        )

    def consistency(self, from_size: int, to_size: int | None = None) -> ConsistencyProof:
        new_size, checkpoint = self._signed_size(to_size, "to")
        if not 0 <= from_size <= new_size:
            raise ValidationError(f"from={from_size} must be between 0 and to={new_size}")
        proof = consistency_proof(
            stored_subtrees(self._log.nodes, self._log.leaf_hashes), from_size, new_size
        )
        return ConsistencyProof(from_size, new_size, Hashes.of(proof), checkpoint)
