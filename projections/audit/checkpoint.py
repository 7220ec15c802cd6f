"""C2SP checkpoints (c2sp.org/tlog-checkpoint): the body of a signed note naming a log's
origin, its size and its RFC 6962 root. Signing and opening notes is a port (`NoteSigner`,
`NoteVerifier`), implemented with Ed25519 in infra/crypto/note.py."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Protocol

from projections.audit.merkle import HASH_SIZE


class CheckpointError(ValueError):
    """A note that is not a well-formed checkpoint, or whose signatures do not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """The checkpoint in a note's text; extension lines after the root are ignored."""
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
            raise CheckpointError("a checkpoint is at least three non-empty lines, each ending \\n")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or (size != "0" and size.startswith("0")) or not size.isascii():
            raise CheckpointError(f"checkpoint size {size!r} is not a decimal number")
        try:
            digest = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointError("checkpoint root is not base64") from None
        if len(digest) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root is {len(digest)} bytes, not {HASH_SIZE}")
        return cls(origin, int(size), digest)


class NoteSigner(Protocol):
    def sign(self, text: str) -> str:
        """The signed note of `text`."""
        ...


class NoteVerifier(Protocol):
    def open(self, note: str) -> str:
        """The text of `note` if it carries the signatures this verifier requires; raises
        CheckpointError naming the key otherwise (a bad signature, no known signature)."""
        ...


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    return Checkpoint.parse(verifier.open(note))
