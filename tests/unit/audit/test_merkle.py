"""The RFC 6962 tree: published reference vectors, and every proof for every size from 1 to 300
against a brute-force implementation written straight from the RFC's recursive definitions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest

from projections.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_inclusion,
    root_of,
    stored_subtrees,
    subtrees,
    verify_consistency,
    verify_inclusion,
)
from tests.unit.audit.rfc6962_vectors import CONSISTENCY, INCLUSION, LEAF_INPUTS, ROOTS

LEAVES = [leaf_hash(bytes.fromhex(x)) for x in LEAF_INPUTS]
SUBTREE = subtrees(lambda start, end: LEAVES[start:end])
MAX_SIZE = 300


def _hex(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert root_of([]) == EMPTY_ROOT == bytes.fromhex(ROOTS[0])


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_roots_match_the_reference_vectors(size: int) -> None:
    assert root_of(LEAVES[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, path: list[str]
) -> None:
    assert _hex(inclusion_proof(SUBTREE, index, size)) == path
    proof = [bytes.fromhex(p) for p in path]
    verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, path: list[str]
) -> None:
    assert _hex(consistency_proof(SUBTREE, old, new)) == path
    proof = [bytes.fromhex(p) for p in path]
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


# --- brute force: RFC 6962 section 2.1, recursion as written ----------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _brute(leaves: list[bytes]) -> tuple[Callable[..., bytes], Callable[..., list[bytes]]]:
    @cache
    def mth(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        k = _k(end - start)
        return hashlib.sha256(b"\x01" + mth(start, start + k) + mth(start + k, end)).digest()

    def path(m: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = _k(end - start)
        if m < k:
            return [*path(m, start, start + k), mth(start + k, end)]
        return [*path(m - k, start + k, end), mth(start, start + k)]

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [mth(start, end)]
        k = _k(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), mth(start + k, end)]
        return [*subproof(m - k, start + k, end, False), mth(start, start + k)]

    def proof(kind: str, a: int, b: int) -> list[bytes]:
        return path(a, 0, b) if kind == "inclusion" else subproof(a, 0, b, True)

    return mth, proof


@pytest.fixture(scope="module")
def big() -> tuple[list[bytes], Callable[..., bytes], Callable[..., list[bytes]]]:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_SIZE)]
    mth, proof = _brute(leaves)
    return leaves, mth, proof


def test_roots_of_every_size_to_300_match_brute_force(
    big: tuple[list[bytes], Callable[..., bytes], Callable[..., list[bytes]]],
) -> None:
    leaves, mth, _ = big
    tree = CompactRange()
    for size in range(1, MAX_SIZE + 1):
        tree.append(leaves[size - 1])
        assert tree.root() == mth(0, size) == root_of(leaves[:size])
        restored = CompactRange.from_bytes(tree.size, tree.to_bytes())
        assert restored.root() == tree.root()


def test_every_inclusion_proof_to_300_matches_brute_force_and_verifies(
    big: tuple[list[bytes], Callable[..., bytes], Callable[..., list[bytes]]],
) -> None:
    leaves, mth, brute = big
    ours = cache(subtrees(lambda start, end: leaves[start:end]))
    for size in range(1, MAX_SIZE + 1):
        root = mth(0, size)
        for index in range(size):
            proof = inclusion_proof(ours, index, size)
            assert proof == brute("inclusion", index, size), (index, size)
            assert root_from_inclusion(index, size, leaves[index], proof) == root
        if size > 1:  # a proof for another leaf does not verify
            with pytest.raises(ProofError):
                verify_inclusion(0, size, leaves[1], inclusion_proof(ours, 0, size), root)


def test_every_consistency_proof_to_300_matches_brute_force_and_verifies(
    big: tuple[list[bytes], Callable[..., bytes], Callable[..., list[bytes]]],
) -> None:
    leaves, mth, brute = big
    ours = cache(subtrees(lambda start, end: leaves[start:end]))
    for new in range(1, MAX_SIZE + 1):
        new_root = mth(0, new)
        for old in range(1, new + 1):
            proof = consistency_proof(ours, old, new)
            assert proof == brute("consistency", old, new), (old, new)
            verify_consistency(old, new, mth(0, old), new_root, proof)
        if new > 2:  # a forged old root does not verify
            with pytest.raises(ProofError):
                verify_consistency(2, new, mth(1, 3), new_root, consistency_proof(ours, 2, new))


@pytest.mark.parametrize(
    ("index", "size", "proof_size", "change"),
    [(5, 8, 3, "flip"), (5, 8, 3, "drop"), (5, 8, 3, "extend"), (2, 5, 3, "index")],
)
def test_a_corrupted_inclusion_proof_is_refused(
    index: int, size: int, proof_size: int, change: str
) -> None:
    proof = inclusion_proof(SUBTREE, index, size)
    assert len(proof) == proof_size
    root = bytes.fromhex(ROOTS[size])
    if change == "flip":
        proof[1] = bytes([proof[1][0] ^ 8]) + proof[1][1:]
    elif change == "drop":
        proof.pop()
    elif change == "extend":
        proof.append(root)
    else:
        index += 1
    with pytest.raises(ProofError):
        verify_inclusion(index, size, LEAVES[5], proof, root)


@pytest.mark.parametrize("change", ["flip", "drop", "empty", "swap"])
def test_a_corrupted_consistency_proof_is_refused(change: str) -> None:
    proof = consistency_proof(SUBTREE, 6, 8)
    old, new = bytes.fromhex(ROOTS[6]), bytes.fromhex(ROOTS[8])
    if change == "flip":
        proof[0] = bytes([proof[0][0] ^ 16]) + proof[0][1:]
    elif change == "drop":
        proof.pop()
    elif change == "empty":
        proof = []
    else:
        old, new = new, old
    with pytest.raises(ProofError):
        verify_consistency(6, 8, old, new, proof)


def test_proofs_from_stored_subtree_roots_match_brute_force_and_read_log_n_hashes(
    big: tuple[list[bytes], Callable[..., bytes], Callable[..., list[bytes]]],
) -> None:
    """The sealer keeps the roots of the perfect subtrees each append completes; proofs built
    from them need no leaf beyond those, and read O(log n) stored hashes per subtree."""
    leaves, _, brute = big
    store: dict[tuple[int, int], bytes] = {}
    tree = CompactRange()
    for index, leaf in enumerate(leaves):
        store[(0, index)] = leaf
        for node in tree.append(leaf):
            store[(node.level, node.index)] = node.hash
    reads: list[int] = []

    def nodes(blocks: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        reads.append(len(blocks))
        return {b: store[b] for b in blocks if b in store}

    def no_leaves(start: int, end: int) -> list[bytes]:
        raise AssertionError(f"leaves {start}..{end} read although their root is stored")

    stored = stored_subtrees(nodes, no_leaves)
    for size in range(1, MAX_SIZE + 1):
        for index in range(0, size, 7):
            assert inclusion_proof(stored, index, size) == brute("inclusion", index, size)
        for old in range(1, size + 1, 5):
            assert consistency_proof(stored, old, size) == brute("consistency", old, size)
    assert max(reads) <= MAX_SIZE.bit_length()


def test_a_missing_stored_root_is_computed_from_its_leaves(
    big: tuple[list[bytes], Callable[..., bytes], Callable[..., list[bytes]]],
) -> None:
    leaves, _, brute = big
    stored = stored_subtrees(lambda blocks: {}, lambda start, end: leaves[start:end])
    assert inclusion_proof(stored, 77, 300) == brute("inclusion", 77, 300)
