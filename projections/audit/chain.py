"""Log entries as bytes, and the hash chain over them.

An event's entry is its position, originator id, version, topic and state exactly as the event
store holds them (the state is the stored bytes: personal data in it is already encrypted, so
erasing a key never changes an entry). Every field has a fixed width or a length prefix, so two
different events never encode to the same bytes:

    position u64 BE || originator id (16 bytes) || version u64 BE
    || len(topic) u32 BE || topic (UTF-8) || len(state) u64 BE || state

The chain: h_0 is 32 zero bytes and h_i = SHA-256(h_{i-1} || entry_i)."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)


@dataclass(frozen=True)
class LogRecord:
    """One stored event, as the event store holds it."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    def entry(self) -> bytes:
        topic = self.topic.encode()
        return b"".join(
            (
                struct.pack(">Q", self.position),
                self.originator_id.bytes,
                struct.pack(">Q", self.version),
                struct.pack(">I", len(topic)),
                topic,
                struct.pack(">Q", len(self.state)),
                self.state,
            )
        )


def chain_hash(previous: bytes, entry: bytes) -> bytes:
    return hashlib.sha256(previous + entry).digest()
