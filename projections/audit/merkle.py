"""An RFC 6962 (section 2.1) Merkle tree: leaf and node hashes, the root of any prefix of the
log kept in O(log n) memory while leaves stream in (a compact range), and inclusion and
consistency proofs with their verification.

Leaves are indexed from 0. Proof generation takes a function giving the root of a range of
leaves, so a caller can compute it from wherever the leaf hashes are stored (or cache it)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = Callable[[int, int], bytes]
"""subtree(start, end): the root over leaves start..end-1 (MTH of RFC 6962)."""


class ProofError(ValueError):
    """A proof does not verify, or the sizes it is asked for make no sense."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (which is at least 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """The root over leaf hashes `hashes`, iteratively (a compact range)."""
    tree = CompactRange()
    for leaf in hashes:
        tree.append(leaf)
    return tree.root()


@dataclass(frozen=True)
class Node:
    """The root of the perfect subtree over leaves index*2^level .. (index+1)*2^level - 1."""

    level: int
    index: int
    hash: bytes


def perfect_blocks(start: int, end: int) -> list[tuple[int, int]]:
    """Leaves start..end-1 as perfect subtrees (level, index), largest first, when `start` is
    aligned as in RFC 6962's recursion (a multiple of the largest power of two below end -
    start); the range's root is then the right fold of their roots with `node_hash`."""
    blocks = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        blocks.append((level, start >> level))
        start += 1 << level
    return blocks


def stored_subtrees(
    nodes: Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]],
    leaf_hashes: Callable[[int, int], Sequence[bytes]],
) -> Subtree:
    """Subtree roots from stored perfect-subtree roots: `nodes(blocks)` gives those it has (leaf
    hashes at level 0 included); a missing one is computed from its leaves."""

    def subtree(start: int, end: int) -> bytes:
        blocks = perfect_blocks(start, end)
        found = nodes(blocks)
        roots = [
            found.get((level, index)) or root_of(leaf_hashes(index << level, (index + 1) << level))
            for level, index in blocks
        ]
        result = roots[-1]
        for left in reversed(roots[:-1]):
            result = node_hash(left, result)
        return result

    return subtree


class CompactRange:
    """The roots of the perfect subtrees that make up leaves 0..size-1, largest first: enough
    to append a leaf and to give the root of the tree so far."""

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if len(nodes) != bin(size).count("1"):
            raise ValueError(f"a compact range of size {size} has {bin(size).count('1')} nodes")
        self.size = size
        self.nodes = list(nodes)

    def append(self, leaf: bytes) -> list[Node]:
        """Append a leaf; the perfect subtrees this completes (level 1 and up), smallest first:
        a store that keeps them can give any proof in O(log n) reads (`stored_subtrees`)."""
        self.nodes.append(leaf)
        self.size += 1
        completed = []
        # Each trailing 0 bit of the new size means two subtrees of equal height to merge.
        merges = (self.size & -self.size).bit_length() - 1
        for level in range(1, merges + 1):
            right = self.nodes.pop()
            self.nodes[-1] = node_hash(self.nodes[-1], right)
            completed.append(Node(level, (self.size >> level) - 1, self.nodes[-1]))
        return completed

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        result = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            result = node_hash(node, result)
        return result

    def to_bytes(self) -> bytes:
        return b"".join(self.nodes)

    @classmethod
    def from_bytes(cls, size: int, packed: bytes) -> CompactRange:
        nodes = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        return cls(size, nodes)


def subtrees(leaf_hashes: Callable[[int, int], Sequence[bytes]]) -> Subtree:
    """Subtree roots computed from `leaf_hashes(start, end)`, the hashes of leaves start..end-1."""

    def subtree(start: int, end: int) -> bytes:
        return root_of(leaf_hashes(start, end))

    return subtree


def inclusion_proof(subtree: Subtree, index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962 2.1.1),
    nearest sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(subtree: Subtree, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`
    (RFC 6962 2.1.2: SUBPROOF, walked from the root down)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end = 0, new_size
    while old_size != end:
        k = _split(end - start)
        if old_size - start <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
    if start != 0:  # the old tree's root is not a node of the new tree: give that subtree
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from leaf `index` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return result


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"leaf {index} is not included in the tree of size {size}")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless `proof` shows the old tree is a prefix of the new one (RFC 9162
    2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {old_size} cannot be a prefix of size {new_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError(f"two different trees of size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("an empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old, new = path[0], path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            old = node_hash(node, old)
            new = node_hash(node, new)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new = node_hash(new, node)
        fn >>= 1
        sn >>= 1
    if sn != 0 or old != old_root or new != new_root:
        raise ProofError(f"the tree of size {old_size} is not a prefix of size {new_size}")
