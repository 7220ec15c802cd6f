"""Key-encryption keys (KEKs): they wrap every data key at rest. Each has a version, stored
beside every key it wraps, so a rotation can tell what is left to re-wrap and the retired KEK
keeps unwrapping until it is done."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from infra.crypto.aead import KEY_BYTES, NONCE_BYTES, DecryptionError, seal, unseal
from infra.settings import DEV_KEK, Settings, SettingsError


class KekError(RuntimeError):
    """A data key cannot be unwrapped with the configured KEKs: a configuration error, never
    to be mistaken for an erased key."""


class UnknownKekError(KekError):
    """The key was wrapped by a KEK version that is not configured."""


class WrongKekError(KekError):
    """The configured KEK of that version does not open the key: it is not the KEK used."""


@dataclass(frozen=True, repr=False)
class KeyEncryptionKey:
    version: int
    key: bytes

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("a KEK version is a positive number")
        if len(self.key) != KEY_BYTES:
            raise ValueError(f"a KEK is {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(version={self.version})"


@dataclass(frozen=True)
class WrappedKey:
    """A data key at rest: nonce + AES-GCM ciphertext under KEK `kek_version`."""

    kek_version: int
    blob: bytes


def _associated(subject: UUID, version: int) -> bytes:
    # Binds a wrapped key to its subject and KEK version: a key copied onto another subject's
    # row, or relabelled with another version, does not unwrap.
    return b"slotwise/data-key/v1|" + subject.bytes + version.to_bytes(4, "big")


class KeyRing:
    """The current KEK, which wraps every new key, and the retired ones still needed to unwrap
    keys a rotation has not re-wrapped yet."""

    def __init__(self, current: KeyEncryptionKey, retired: Iterable[KeyEncryptionKey] = ()) -> None:
        self.current = current
        self._by_version = {k.version: k for k in retired}
        if current.version in self._by_version:
            raise ValueError(f"KEK version {current.version} is both current and retired")
        self._by_version[current.version] = current

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        if settings.kek is None:
            msg = (
                "SLOTWISE_KEK is not set: set it to 32 random bytes in base64, "
                "or run with SLOTWISE_MODE=dev to use the development KEK"
            )
            raise SettingsError(msg)
        if not settings.dev_kek_allowed and settings.kek == DEV_KEK:
            raise SettingsError("the development KEK is refused outside dev and test mode")
        retired = (KeyEncryptionKey(v, k) for v, k in settings.retired_keks)
        return cls(KeyEncryptionKey(settings.kek_version, settings.kek), retired)

    @property
    def versions(self) -> frozenset[int]:
        return frozenset(self._by_version)

    def wrap(self, subject: UUID, data_key: bytes) -> WrappedKey:
        kek = self.current
        nonce, sealed = seal(kek.key, data_key, _associated(subject, kek.version))
        return WrappedKey(kek.version, nonce + sealed)

    def unwrap(self, subject: UUID, wrapped: WrappedKey) -> bytes:
        kek = self._by_version.get(wrapped.kek_version)
        if kek is None:
            msg = f"a data key is wrapped by KEK version {wrapped.kek_version}, not configured"
            raise UnknownKekError(msg)
        nonce, sealed = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        try:
            return unseal(kek.key, nonce, sealed, _associated(subject, kek.version))
        except DecryptionError:
            msg = f"the configured KEK version {kek.version} does not open this data key"
            raise WrongKekError(msg) from None

    def rewrap(self, subject: UUID, wrapped: WrappedKey) -> WrappedKey:
        """The same data key wrapped by the current KEK (as it is, when it already is)."""
        if wrapped.kek_version == self.current.version:
            return wrapped
        return self.wrap(subject, self.unwrap(subject, wrapped))
