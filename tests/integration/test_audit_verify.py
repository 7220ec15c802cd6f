"""`slotwise audit verify DIR` on an export of a real run on PostgreSQL: it passes untouched,
offline (no database, no settings: only the export and a public key), and names the first bad
position for each way of tampering with it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from infra.audit.export import read_records, read_seals, write_export
from infra.audit.files import file_name, read_notes
from infra.crypto.note import NoteSignerKey, NoteVerifiers
from infra.postgres.database import Database, eventstore_env
from projections.audit.checkpoint import Checkpoint
from projections.audit.sealing import CheckpointPolicy, Head, seal
from projections.audit.verify import Report, verify
from tests.audit_support import SIGNER, fill, rolled_back_insert, seal_to_end, store_on
from tests.conftest import ROOT
from tests.keys import keyed_scheduling

ORIGIN = "slotwise.test/export"
EVERY_8 = CheckpointPolicy(every_events=8, every_seconds=3600)


@pytest.fixture(scope="module")
def export(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run's export: bookings, a rolled-back insert (a real gap), more bookings; sealed with
    a checkpoint every 8 events."""
    with keyed_scheduling(database) as keyed:
        return _export(keyed(eventstore_env(database, 2)), database, tmp_path_factory)


def _export(app: Scheduling, database: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        provider_id = fill(app, 4)
        rolled_back_insert(app, provider_id)
        fill(app, 4)
        with ConnectionPool(database.conninfo, min_size=1, max_size=2) as pool:
            store = store_on(app, pool, ORIGIN)
            seal_to_end(store, EVERY_8)
            directory = tmp_path_factory.mktemp("export")
            notes = [(c.size, c.note) for c in store.checkpoints()]
            write_export(directory, ORIGIN, store.records(), store.seals(), notes)
    finally:
        app.close()
    return directory


@pytest.fixture
def copy(export: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(export, tmp_path / "export"))


def _check(directory: Path, *keys: NoteSignerKey) -> Report:
    verifier = NoteVerifiers([k.verifier() for k in keys or (SIGNER,)])
    notes = read_notes(directory / "checkpoints")
    return verify(read_records(directory), read_seals(directory), notes, verifier, origin=ORIGIN)


def _lines(directory: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / name).read_text().splitlines()]


def _write(directory: Path, name: str, rows: list[dict[str, Any]]) -> None:
    (directory / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def _only(report: Report) -> tuple[str, int | None]:
    assert len(report.findings) == 1, report.findings
    return report.findings[0].kind, report.findings[0].position


def test_the_untouched_export_verifies_with_its_gap(export: Path) -> None:
    report = _check(export)
    positions = [r["position"] for r in _lines(export, "events.jsonl")]
    assert report.ok, report.findings
    assert report.sealed == report.events == len(positions)
    assert len(set(range(1, positions[-1] + 1)) - set(positions)) == 1  # the rolled-back one
    assert [c.size for c in report.checkpoints] == list(range(8, len(positions) + 1, 8))


def _changed_byte(d: Path, events: list[dict[str, Any]]) -> int:
    state = bytearray(base64.b64decode(events[10]["state"]))
    state[len(state) // 2] ^= 0x01
    events[10]["state"] = base64.b64encode(bytes(state)).decode()
    _write(d, "events.jsonl", events)
    return int(events[10]["position"])


def _deleted(d: Path, events: list[dict[str, Any]]) -> int:
    gone = events.pop(12)
    _write(d, "events.jsonl", events)
    return int(gone["position"])


def _reordered(d: Path, events: list[dict[str, Any]]) -> int:
    events[14], events[15] = events[15], events[14]
    _write(d, "events.jsonl", events)
    return int(events[15]["position"])


def _inserted(d: Path, events: list[dict[str, Any]]) -> int:
    positions = [e["position"] for e in events]
    free = min(set(range(1, positions[-1])) - set(positions))  # the gap's position
    at = next(i for i, p in enumerate(positions) if p > free)
    events.insert(at, {**events[at], "position": free})
    _write(d, "events.jsonl", events)
    return free


TAMPERING: dict[str, tuple[Callable[[Path, list[dict[str, Any]]], int], str]] = {
    "one changed byte": (_changed_byte, "changed"),
    "a deleted event": (_deleted, "deleted"),
    "a reordered pair": (_reordered, "reordered"),
    "an inserted event": (_inserted, "inserted"),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_with_the_events_names_the_first_bad_position(copy: Path, case: str) -> None:
    tamper, kind = TAMPERING[case]
    position = tamper(copy, _lines(copy, "events.jsonl"))
    assert _only(_check(copy)) == (kind, position)


def test_events_and_leaves_rewritten_together_fail_at_the_covering_checkpoint(copy: Path) -> None:
    """Whoever rewrites the log and recomputes the sealer's record cannot re-sign."""
    position = _changed_byte(copy, _lines(copy, "events.jsonl"))
    resealed = seal(Head(), list(read_records(copy)))
    leaves = [
        {"index": s.index, "position": s.position, "leaf": s.leaf.hex(), "chain": s.chain.hex()}
        for s in resealed
    ]
    _write(copy, "leaves.jsonl", leaves)
    report = _check(copy)
    assert {f.kind for f in report.findings} == {"checkpoint"}
    first = report.findings[0]  # the smallest checkpoint covering the change
    assert first.position is not None
    assert first.position <= position
    assert "does not match the log" in first.message


def test_a_signed_checkpoint_that_is_not_a_prefix_of_a_later_one_is_named(copy: Path) -> None:
    forged = SIGNER.sign(Checkpoint(ORIGIN, 12, bytes(32)).body())
    (copy / "checkpoints" / file_name(12)).write_text(forged)
    report = _check(copy)
    kind, position = _only(report)
    positions = [r["position"] for r in _lines(copy, "events.jsonl")]
    assert (kind, position) == ("fork", positions[8])  # after checkpoint 8, the last good one
    assert "not a prefix of the checkpoint of size 16" in report.findings[0].message


def test_a_bad_signature_is_named(copy: Path) -> None:
    path = copy / "checkpoints" / file_name(16)
    text, _, signatures = path.read_text().partition("\n\n")
    lines = text.split("\n")
    lines[1] = "15"
    path.write_text("\n".join(lines) + "\n\n" + signatures)
    report = _check(copy)
    assert [f.kind for f in report.findings] == ["signature"]
    assert "bad signature by slotwise.test/events" in report.findings[0].message


def test_a_checkpoint_signed_by_an_untrusted_key_is_refused(copy: Path) -> None:
    stranger = NoteSignerKey("slotwise.test/events", bytes(32))
    forged = stranger.sign(Checkpoint(ORIGIN, 3, bytes(32)).body())
    (copy / "checkpoints" / file_name(3)).write_text(forged)
    report = _check(copy)
    assert [f.kind for f in report.findings] == ["signature"]
    assert "no signature by a trusted key" in report.findings[0].message


def test_truncating_the_log_and_its_leaves_is_named(copy: Path) -> None:
    events, leaves = _lines(copy, "events.jsonl"), _lines(copy, "leaves.jsonl")
    _write(copy, "events.jsonl", events[:-5])
    _write(copy, "leaves.jsonl", leaves[:-5])
    report = _check(copy)
    assert {f.kind for f in report.findings} == {"truncated"}
    assert report.first_bad_position == events[-6]["position"] + 1


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command with no database and no Slotwise settings in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOTWISE_", "DATABASE"))}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"  # unreachable if ever used
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit", "verify", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_offline_command_needs_only_the_export_and_the_public_key(copy: Path) -> None:
    key = SIGNER.verifier().text()
    passed = _cli(str(copy), "--key", key)
    assert passed.returncode == 0, passed.stderr
    assert "OK: every sealed event" in passed.stdout
    position = _deleted(copy, _lines(copy, "events.jsonl"))
    failed = _cli(str(copy), "--key", key)
    assert failed.returncode == 1
    assert f"first bad position: {position}" in failed.stderr
