"""The export directory: everything an auditor needs to check the log offline, in plain files.

manifest.json        format, origin, counts, the trusted keys' text when given
events.jsonl         one stored event per line: position, originator_id, version, topic,
                     state (base64 of the stored bytes)
leaves.jsonl         the sealer's record per leaf: index, position, leaf and chain (hex)
checkpoints/         the signed checkpoints, one file each (<size>.checkpoint)"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

from infra.audit.files import file_name
from projections.audit.chain import LogRecord
from projections.audit.sealing import Seal

FORMAT = "slotwise-audit-export/1"


class ExportError(ValueError):
    """The directory is not a readable export."""


def write_export(
    directory: Path,
    origin: str,
    records: Iterable[LogRecord],
    seals: Iterable[Seal],
    checkpoints: Iterable[tuple[int, str]],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "checkpoints").mkdir(exist_ok=True)
    events = 0
    with (directory / "events.jsonl").open("w", encoding="utf-8") as out:
        for r in records:
            line = {
                "position": r.position,
                "originator_id": str(r.originator_id),
                "version": r.version,
                "topic": r.topic,
                "state": base64.b64encode(r.state).decode(),
            }
            out.write(json.dumps(line) + "\n")
            events += 1
            if progress is not None and events % 1000 == 0:
                progress(events)
    sealed = 0
    with (directory / "leaves.jsonl").open("w", encoding="utf-8") as out:
        for s in seals:
            line = {"index": s.index, "position": s.position, "leaf": s.leaf.hex()}
            out.write(json.dumps({**line, "chain": s.chain.hex()}) + "\n")
            sealed += 1
    written = 0
    for size, note in checkpoints:
        (directory / "checkpoints" / file_name(size)).write_text(note, encoding="utf-8")
        written += 1
    manifest = {
        "format": FORMAT,
        "origin": origin,
        "events": events,
        "sealed": sealed,
        "checkpoints": written,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if progress is not None:
        progress(events)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise ExportError(f"{directory} is not an export: {error}") from None
    if manifest.get("format") != FORMAT:
        raise ExportError(f"{directory}: unknown export format {manifest.get('format')!r}")
    return manifest


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                yield number, json.loads(line)
            except ValueError:
                raise ExportError(f"{path.name} line {number} is not JSON") from None


def read_records(directory: Path) -> Iterator[LogRecord]:
    for number, row in _lines(directory / "events.jsonl"):
        try:
            yield LogRecord(
                int(row["position"]),
                UUID(row["originator_id"]),
                int(row["version"]),
                str(row["topic"]),
                base64.b64decode(row["state"], validate=True),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise ExportError(f"events.jsonl line {number}: {error!r}") from None


def read_seals(directory: Path) -> Iterator[Seal]:
    for number, row in _lines(directory / "leaves.jsonl"):
        try:
            leaf, chain = bytes.fromhex(row["leaf"]), bytes.fromhex(row["chain"])
            yield Seal(int(row["index"]), int(row["position"]), leaf, chain)
        except (KeyError, ValueError, TypeError) as error:
            raise ExportError(f"leaves.jsonl line {number}: {error!r}") from None
