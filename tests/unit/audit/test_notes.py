"""C2SP signed notes with Ed25519: the Go reference vector byte for byte, key ids, rotation,
a co-signature that must be present, bad and unknown signatures; the signing key's settings."""

from __future__ import annotations

import pytest

from infra.crypto.note import NoteKeyError, NoteSignerKey, NoteVerifierKey, NoteVerifiers
from infra.settings import DEV_AUDIT_KEY, Settings, SettingsError
from projections.audit.checkpoint import Checkpoint, CheckpointError

# golang.org/x/mod/sumdb/note, note_test.go (BSD-style licence, The Go Authors).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n"
)
BODY = Checkpoint("slotwise.test/log", 5, bytes(range(32))).body()


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    signer = NoteSignerKey.parse(GO_SKEY)
    assert signer.verifier().text() == GO_VKEY
    assert signer.sign(GO_TEXT) == GO_TEXT + "\n" + GO_SIGNATURE
    assert NoteVerifiers.parse([GO_VKEY]).open(GO_TEXT + "\n" + GO_SIGNATURE) == GO_TEXT


def test_a_verifier_key_whose_id_does_not_match_is_refused() -> None:
    with pytest.raises(NoteKeyError):
        NoteVerifierKey.parse(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_after_a_rotation_both_keys_verify_their_own_checkpoints() -> None:
    old, _ = NoteSignerKey.generate("slotwise.test/log")
    new, _ = NoteSignerKey.generate("slotwise.test/log")
    both = NoteVerifiers([old.verifier(), new.verifier()])
    assert both.open(old.sign(BODY)) == both.open(new.sign(BODY)) == BODY
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        NoteVerifiers([new.verifier()]).open(old.sign(BODY))


def test_a_required_co_signature_must_be_present() -> None:
    log, _ = NoteSignerKey.generate("slotwise.test/log")
    compliance, _ = NoteSignerKey.generate("compliance.test")
    verifier = NoteVerifiers([log.verifier(), compliance.verifier()], required=["compliance.test"])
    note = log.sign(BODY)
    with pytest.raises(CheckpointError, match=r"not signed by compliance\.test"):
        verifier.open(note)
    assert verifier.open(compliance.cosign(note)) == BODY


def test_a_known_key_with_a_bad_signature_refuses_the_note_and_unknown_keys_are_ignored() -> None:
    log, _ = NoteSignerKey.generate("slotwise.test/log")
    stranger, _ = NoteSignerKey.generate("stranger.test")
    verifier = NoteVerifiers([log.verifier()])
    assert verifier.open(stranger.cosign(log.sign(BODY))) == BODY
    tampered = log.sign(BODY).replace("\n5\n", "\n6\n")
    with pytest.raises(CheckpointError, match=r"bad signature by slotwise\.test/log"):
        verifier.open(tampered)


@pytest.mark.parametrize(
    "note", ["no signatures\n", BODY + "\nnot a signature line\n", BODY + "\n\u2014 x !!!\n"]
)
def test_malformed_notes_are_refused(note: str) -> None:
    log, _ = NoteSignerKey.generate("slotwise.test/log")
    with pytest.raises(CheckpointError):
        NoteVerifiers([log.verifier()]).open(note)


def test_the_checkpoint_body_round_trips_and_refuses_a_padded_size() -> None:
    assert Checkpoint.parse(BODY) == Checkpoint("slotwise.test/log", 5, bytes(range(32)))
    with pytest.raises(CheckpointError):
        Checkpoint.parse(BODY.replace("\n5\n", "\n05\n"))


def test_the_development_signing_key_is_refused_outside_dev_and_test_mode() -> None:
    dev = NoteSignerKey.development("slotwise/event-log")
    skey = f"PRIVATE+KEY+slotwise/event-log+{dev.id.hex()}+{DEV_AUDIT_KEY}"
    secret = "s" * 40
    base = {"SLOTWISE_JWT_SECRET": secret, "SLOTWISE_AUDIT_SIGNING_KEY": skey}
    assert dev.is_development
    assert Settings.from_env({**base, "SLOTWISE_MODE": "dev"}).audit_signing_key == skey
    with pytest.raises(SettingsError, match="development key"):
        Settings.from_env({**base, "SLOTWISE_MODE": "production"})
