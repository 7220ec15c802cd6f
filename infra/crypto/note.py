"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys: the keys' text encodings, key
ids, signing, co-signing and opening a note against a set of trusted keys.

    signer key:   PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>
    verifier key: <name>+<key id, 8 hex>+<base64(0x01 || 32-byte public key)>
    key id:       the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)
    note:         <text, ending in \\n> \\n (— <name> <base64(key id || signature)>\\n)+"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from projections.audit.checkpoint import CheckpointError

ED25519 = 0x01
DASH = "\u2014"  # the em dash that starts every signature line
_DEV_SEED = hashlib.sha256(b"slotwise-dev-only-audit-signing-key").digest()


class NoteKeyError(ValueError):
    """A key's text encoding is malformed."""


def _check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise NoteKeyError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _decode(encoded: str, what: str) -> bytes:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise NoteKeyError(f"{what}: the key is not base64") from None
    if len(data) != 33 or data[0] != ED25519:
        raise NoteKeyError(f"{what}: not an Ed25519 key (type 0x01 and 32 bytes)")
    return data[1:]


@dataclass(frozen=True)
class NoteVerifierKey:
    name: str
    id: bytes
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifierKey:
        name, _, rest = vkey.strip().partition("+")
        hex_id, _, encoded = rest.partition("+")
        raw = _decode(encoded, f"verifier key {name!r}")
        if len(hex_id) != 8 or bytes.fromhex(hex_id) != key_id(_check_name(name), raw):
            raise NoteKeyError(f"verifier key {name!r}: its key id does not match the key")
        return cls(name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw))

    def text(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + _raw(self.public)).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"


class NoteSignerKey:
    """Signs notes under one name; `verifier()` is what to give auditors."""

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = _check_name(name)
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.id = key_id(name, _raw(self._key.public_key()))

    @classmethod
    def parse(cls, skey: str) -> NoteSignerKey:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteKeyError("a signer key reads PRIVATE+KEY+<name>+<key id>+<base64 key>")
        signer = cls(parts[2], _decode(parts[4], f"signer key {parts[2]!r}"))
        if parts[3] != signer.id.hex():
            raise NoteKeyError(f"signer key {parts[2]!r}: its key id does not match the key")
        return signer

    @classmethod
    def generate(cls, name: str) -> tuple[NoteSignerKey, str]:
        """A new key, and its signer-key text (a secret)."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        signer = cls(name, seed)
        encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
        return signer, f"PRIVATE+KEY+{name}+{signer.id.hex()}+{encoded}"

    @classmethod
    def development(cls, name: str) -> NoteSignerKey:
        """The well-known key used in dev and test mode only."""
        return cls(name, _DEV_SEED)

    @property
    def is_development(self) -> bool:
        return self._key.private_bytes_raw() == _DEV_SEED

    def verifier(self) -> NoteVerifierKey:
        return NoteVerifierKey(self.name, self.id, self._key.public_key())

    def signature_line(self, text: str) -> str:
        signature = self._key.sign(text.encode())
        return f"{DASH} {self.name} {base64.b64encode(self.id + signature).decode()}\n"

    def sign(self, text: str) -> str:
        if not text.endswith("\n") or "\n\n" in text:
            raise CheckpointError("a note's text ends in a newline and has no blank line")
        return f"{text}\n{self.signature_line(text)}"

    def cosign(self, note: str) -> str:
        """`note` with this key's signature added (a co-signature, e.g. compliance's)."""
        text, _ = split_note(note)
        return note + self.signature_line(text)


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text of `note` and its signatures as (name, key id || signature)."""
    text, sep, block = note.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise CheckpointError("not a signed note: no signature block after a blank line")
    signatures = []
    for line in block[:-1].split("\n"):
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            blob = b""
        if prefix != DASH or not name or len(blob) < 5:
            raise CheckpointError("a malformed signature line")
        signatures.append((name, blob))
    return text + "\n", signatures


class NoteVerifiers:
    """Opens notes signed by any of `keys` (several: a rotated key, a co-signer). Names in
    `required` must each have signed. A signature by a known key that does not verify refuses
    the note; signatures by unknown keys are ignored, as the spec asks."""

    def __init__(self, keys: Iterable[NoteVerifierKey], required: Iterable[str] = ()) -> None:
        self._keys = {(k.name, k.id): k for k in keys}
        self._required = set(required)
        if not self._keys:
            raise NoteKeyError("give at least one verifier key")

    @classmethod
    def parse(cls, vkeys: Iterable[str], required: Iterable[str] = ()) -> NoteVerifiers:
        return cls([NoteVerifierKey.parse(v) for v in vkeys], required)

    def open(self, note: str) -> str:
        text, signatures = split_note(note)
        signed: set[str] = set()
        for name, blob in signatures:
            key = self._keys.get((name, blob[:4]))
            if key is None:
                continue
            try:
                key.public.verify(blob[4:], text.encode())
            except InvalidSignature:
                raise CheckpointError(f"bad signature by {name}+{blob[:4].hex()}") from None
            signed.add(name)
        if not signed:
            raise CheckpointError("no signature by a trusted key")
        missing = self._required - signed
        if missing:
            raise CheckpointError(f"not signed by {', '.join(sorted(missing))}")
        return text
