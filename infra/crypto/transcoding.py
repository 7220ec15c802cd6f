"""The eventsourcing transcoding for `domain.personal.PersonalData`: every personal value is
stored as its subject id plus AES-256-GCM ciphertext under that subject's data key, and read back
as the erased tombstone once the key is gone. Registered by `SlotwiseApplication`, so events,
snapshots and anything else its mapper stores all go through it."""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoding

from commands.ports import KeyStore
from domain.personal import PersonalData
from infra.crypto.aead import DecryptionError, seal, unseal

# The stored form's version: AES-256-GCM, 96-bit nonce, JSON plaintext, the AAD below.
SCHEME = 1


class PersonalDataIntegrityError(RuntimeError):
    """Stored personal data does not open with its subject's key: it was altered or moved to
    another subject. Raised rather than read as erased, so corruption stops a reader instead of
    silently blanking a patient."""


def associated_data(subject: UUID) -> bytes:
    """Binds a ciphertext to its subject: moved onto another subject it no longer opens."""
    return b"slotwise/personal/v1|" + subject.bytes


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class PersonalDataAsCiphertext(Transcoding):
    type = PersonalData
    name = "personal"

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        subject = obj.subject.hex
        if obj.is_erased:
            return {"subject": subject, "erased": True}
        plaintext = json.dumps(obj.value, separators=(",", ":"), ensure_ascii=False)
        key = self._keys.create(obj.subject)
        nonce, ciphertext = seal(key, plaintext.encode("utf-8"), associated_data(obj.subject))
        return {"subject": subject, "v": SCHEME, "nonce": _b64(nonce), "ct": _b64(ciphertext)}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        subject = UUID(data["subject"])
        if data.get("erased"):
            return PersonalData.erased(subject)
        if data.get("v") != SCHEME:
            raise PersonalDataIntegrityError(f"unknown personal-data scheme {data.get('v')!r}")
        key = self._keys.get(subject)
        if key is None:
            return PersonalData.erased(subject)
        nonce, ciphertext = base64.b64decode(data["nonce"]), base64.b64decode(data["ct"])
        try:
            plaintext = unseal(key, nonce, ciphertext, associated_data(subject))
        except DecryptionError:
            msg = f"personal data of subject {subject} failed authentication"
            raise PersonalDataIntegrityError(msg) from None
        return PersonalData(subject, json.loads(plaintext))
