"""Encryption of personal data, data keys wrapped by KEKs, rotation, the key cache, and the KEK
settings. No I/O: keys live in memory here (the PostgreSQL store: tests/integration)."""

from __future__ import annotations

import base64
import json
import os
from uuid import UUID, uuid4

import pytest

from domain.personal import ERASED, JSONValue, PersonalData, SubjectErasedError
from infra.crypto.aead import new_key
from infra.crypto.cache import CachedKeyStore
from infra.crypto.kek import (
    KeyEncryptionKey,
    KeyRing,
    UnknownKekError,
    WrappedKey,
    WrongKekError,
)
from infra.crypto.transcoding import PersonalDataAsCiphertext, PersonalDataIntegrityError
from infra.settings import DEV_KEK, Settings, SettingsError
from tests.fakes import InMemoryKeyStore

GRACE = uuid4()
ALAN = uuid4()


@pytest.fixture
def keys() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def personal(keys: InMemoryKeyStore) -> PersonalDataAsCiphertext:
    return PersonalDataAsCiphertext(keys)


def stored(transcoding: PersonalDataAsCiphertext, value: PersonalData) -> dict[str, object]:
    """What storage holds: the encoded form through JSON and back."""
    encoded: dict[str, object] = json.loads(json.dumps(transcoding.encode(value)))
    return encoded


@pytest.mark.parametrize(
    "value", ["Grace Hopper", ["cough", "fever"], {"pulse": 72, "temperature": 37.2}, ""]
)
def test_a_value_round_trips_encrypted(
    personal: PersonalDataAsCiphertext, value: JSONValue
) -> None:
    original = PersonalData(GRACE, value)
    data = stored(personal, original)
    assert set(data) == {"subject", "v", "nonce", "ct"}
    assert data["subject"] == GRACE.hex
    assert personal.decode(data) == original


def test_the_stored_form_holds_no_clear_value(personal: PersonalDataAsCiphertext) -> None:
    data = json.dumps(personal.encode(PersonalData(GRACE, {"reason": "chest pain"})))
    assert "chest" not in data
    assert "reason" not in data


def test_each_encryption_uses_a_fresh_nonce(personal: PersonalDataAsCiphertext) -> None:
    value = PersonalData(GRACE, "Grace Hopper")
    first, second = stored(personal, value), stored(personal, value)
    assert first["nonce"] != second["nonce"]
    assert first["ct"] != second["ct"]


def test_a_value_reads_as_the_tombstone_once_its_key_is_destroyed(
    personal: PersonalDataAsCiphertext, keys: InMemoryKeyStore
) -> None:
    grace, alan = PersonalData(GRACE, "Grace Hopper"), PersonalData(ALAN, "Alan Turing")
    grace_data, alan_data = stored(personal, grace), stored(personal, alan)
    keys.destroy(GRACE)
    assert personal.decode(grace_data) == PersonalData.erased(GRACE)
    assert personal.decode(grace_data).text == ERASED
    assert personal.decode(alan_data) == alan


def test_a_tombstone_is_stored_as_one_with_no_key(personal: PersonalDataAsCiphertext) -> None:
    data = stored(personal, PersonalData.erased(GRACE))
    assert data == {"subject": GRACE.hex, "erased": True}
    assert personal.decode(data) == PersonalData.erased(GRACE)


def test_no_new_personal_data_is_stored_for_an_erased_subject(
    personal: PersonalDataAsCiphertext, keys: InMemoryKeyStore
) -> None:
    keys.destroy(GRACE)
    with pytest.raises(SubjectErasedError):
        personal.encode(PersonalData(GRACE, "Grace Hopper"))


def test_ciphertext_moved_to_another_subject_is_detected(
    personal: PersonalDataAsCiphertext,
) -> None:
    stored(personal, PersonalData(ALAN, "Alan Turing"))  # Alan has a key of his own
    data = stored(personal, PersonalData(GRACE, "Grace Hopper"))
    moved = {**data, "subject": ALAN.hex}
    with pytest.raises(PersonalDataIntegrityError):
        personal.decode(moved)


def test_tampered_ciphertext_is_detected(personal: PersonalDataAsCiphertext) -> None:
    data = stored(personal, PersonalData(GRACE, "Grace Hopper"))
    raw = bytearray(base64.b64decode(str(data["ct"])))
    raw[0] ^= 1
    with pytest.raises(PersonalDataIntegrityError):
        personal.decode({**data, "ct": base64.b64encode(bytes(raw)).decode()})


def test_an_unknown_scheme_is_refused(personal: PersonalDataAsCiphertext) -> None:
    data = stored(personal, PersonalData(GRACE, "Grace Hopper"))
    with pytest.raises(PersonalDataIntegrityError):
        personal.decode({**data, "v": 99})


def test_data_keys_are_made_once_per_subject(keys: InMemoryKeyStore) -> None:
    assert keys.get(GRACE) is None
    key = keys.create(GRACE)
    assert len(key) == 32
    assert keys.create(GRACE) == key
    assert keys.get(GRACE) == key


# -- key-encryption keys -------------------------------------------------------------------


def kek(version: int) -> KeyEncryptionKey:
    return KeyEncryptionKey(version, os.urandom(32))


def test_a_data_key_unwraps_with_the_kek_that_wrapped_it() -> None:
    ring = KeyRing(kek(1))
    data_key = new_key()
    wrapped = ring.wrap(GRACE, data_key)
    assert wrapped.kek_version == 1
    assert data_key not in wrapped.blob
    assert ring.unwrap(GRACE, wrapped) == data_key


def test_a_wrong_kek_is_refused_not_taken_for_an_erased_key() -> None:
    wrapped = KeyRing(kek(1)).wrap(GRACE, new_key())
    with pytest.raises(WrongKekError):
        KeyRing(kek(1)).unwrap(GRACE, wrapped)
    with pytest.raises(UnknownKekError):
        KeyRing(kek(2)).unwrap(GRACE, wrapped)


def test_a_wrapped_key_moved_to_another_subject_does_not_unwrap() -> None:
    ring = KeyRing(kek(1))
    wrapped = ring.wrap(GRACE, new_key())
    with pytest.raises(WrongKekError):
        ring.unwrap(ALAN, wrapped)
    with pytest.raises(UnknownKekError):
        ring.unwrap(GRACE, WrappedKey(2, wrapped.blob))


def test_a_kek_does_not_show_in_repr() -> None:
    key = kek(3)
    assert repr(key) == "KeyEncryptionKey(version=3)"


class WrappedKeys:
    """Data keys at rest as the PostgreSQL store keeps them: wrapped, with their KEK version."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self.rows: dict[UUID, WrappedKey] = {}

    def create(self, subject: UUID) -> bytes:
        if subject not in self.rows:
            self.rows[subject] = self.ring.wrap(subject, new_key())
        return self.ring.unwrap(subject, self.rows[subject])

    def get(self, subject: UUID) -> bytes | None:
        row = self.rows.get(subject)
        return None if row is None else self.ring.unwrap(subject, row)

    def destroy(self, subject: UUID) -> None:
        self.rows.pop(subject, None)


def test_rotation_rewraps_data_keys_and_old_ciphertext_still_decrypts() -> None:
    old, new = kek(1), kek(2)
    at_rest = WrappedKeys(KeyRing(old))
    before = PersonalDataAsCiphertext(at_rest)
    value = PersonalData(GRACE, {"notes": "written under KEK 1"})
    data = stored(before, value)

    at_rest.ring = KeyRing(new, retired=[old])  # during the rotation both open
    at_rest.rows = {s: at_rest.ring.rewrap(s, w) for s, w in at_rest.rows.items()}
    assert {w.kek_version for w in at_rest.rows.values()} == {2}

    at_rest.ring = KeyRing(new)  # the old KEK is gone
    assert PersonalDataAsCiphertext(at_rest).decode(data) == value
    assert at_rest.ring.rewrap(GRACE, at_rest.rows[GRACE]) == at_rest.rows[GRACE]


def test_a_kek_version_cannot_be_both_current_and_retired() -> None:
    with pytest.raises(ValueError):
        KeyRing(kek(1), retired=[kek(1)])


# -- the cache -----------------------------------------------------------------------------


class CountingKeys(InMemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, subject: UUID) -> bytes | None:
        self.reads += 1
        return super().get(subject)


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cached_keys_are_read_once_within_their_time_to_live() -> None:
    inner, ticks = CountingKeys(), Ticks()
    cache = CachedKeyStore(inner, ttl_seconds=60, clock=ticks)
    key = cache.create(GRACE)
    assert cache.get(GRACE) == key
    assert inner.reads == 0
    ticks.now = 61
    assert cache.get(GRACE) == key
    assert inner.reads == 1


def test_destroying_through_the_cache_evicts_the_key_at_once() -> None:
    inner = CountingKeys()
    cache = CachedKeyStore(inner, ttl_seconds=3600)
    cache.create(GRACE)
    assert GRACE in cache
    cache.destroy(GRACE)
    assert GRACE not in cache
    assert cache.get(GRACE) is None
    assert inner.get(GRACE) is None
    with pytest.raises(SubjectErasedError):
        cache.create(GRACE)


def test_the_cache_holds_at_most_its_size() -> None:
    cache = CachedKeyStore(InMemoryKeyStore(), max_keys=2)
    subjects = [uuid4() for _ in range(3)]
    for subject in subjects:
        cache.create(subject)
    assert [s in cache for s in subjects] == [False, True, True]


# -- settings ------------------------------------------------------------------------------

PRODUCTION = {"SLOTWISE_MODE": "production", "SLOTWISE_JWT_SECRET": "s" * 40}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_dev_and_test_mode_fall_back_to_the_development_kek() -> None:
    for mode in ("dev", "test"):
        settings = Settings.from_env({"SLOTWISE_MODE": mode})
        assert settings.kek == DEV_KEK
        assert KeyRing.from_settings(settings).current.version == 1


def test_production_refuses_the_development_kek() -> None:
    with pytest.raises(SettingsError, match="development key"):
        Settings.from_env({**PRODUCTION, "SLOTWISE_KEK": b64(DEV_KEK)})
    forged = Settings.from_env({"SLOTWISE_MODE": "test"})
    with pytest.raises(SettingsError, match="development KEK"):
        KeyRing.from_settings(Settings(**{**vars(forged), "mode": "production"}))


def test_production_without_a_kek_cannot_build_the_key_ring() -> None:
    settings = Settings.from_env(PRODUCTION)
    assert settings.kek is None
    with pytest.raises(SettingsError, match="SLOTWISE_KEK is not set"):
        KeyRing.from_settings(settings)


def test_kek_settings_carry_the_version_and_the_retired_keks() -> None:
    current, retired = os.urandom(32), os.urandom(32)
    env = {
        **PRODUCTION,
        "SLOTWISE_KEK": b64(current),
        "SLOTWISE_KEK_VERSION": "2",
        "SLOTWISE_KEK_RETIRED": f"1:{b64(retired)}",
    }
    settings = Settings.from_env(env)
    assert b64(current) not in repr(settings)
    ring = KeyRing.from_settings(settings)
    assert ring.current == KeyEncryptionKey(2, current)
    assert ring.versions == {1, 2}


@pytest.mark.parametrize(
    "env",
    [
        {"SLOTWISE_KEK": "not base64!"},
        {"SLOTWISE_KEK": b64(os.urandom(16))},
        {"SLOTWISE_KEK_RETIRED": "one:" + b64(os.urandom(32))},
        {"SLOTWISE_KEK_RETIRED": b64(os.urandom(32))},
    ],
)
def test_malformed_kek_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env({**PRODUCTION, "SLOTWISE_KEK": b64(os.urandom(32)), **env})
