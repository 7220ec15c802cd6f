"""Signed checkpoints as files in a directory outside the database: a database superuser who
rewrites the log and its seals cannot reach these copies (point the directory at other storage,
a mount that ships elsewhere or is append-only, with SLOTWISE_AUDIT_CHECKPOINT_DIR)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

SUFFIX = ".checkpoint"


def file_name(size: int) -> str:
    return f"{size:016d}{SUFFIX}"


class CheckpointDirectory:
    """`<root>/<origin, with / and other marks as _>/<size, 16 digits>.checkpoint`."""

    def __init__(self, root: Path, origin: str) -> None:
        self.path = root / re.sub(r"[^A-Za-z0-9.-]", "_", origin)

    def write(self, size: int, note: str) -> Path:
        """Write atomically (a temporary file, fsync, rename) and never overwrite."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / file_name(size)
        if target.exists():
            return target
        temporary = target.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8", newline="\n") as out:
            out.write(note)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return target

    def sizes(self) -> set[int]:
        if not self.path.is_dir():
            return set()
        return {int(p.name.removesuffix(SUFFIX)) for p in self.path.glob(f"*{SUFFIX}")}

    def write_missing(self, checkpoints: Iterable[tuple[int, str]]) -> int:
        """Write the checkpoints that have no file yet (a sealer killed between its commit and
        its file write); how many were written."""
        present = self.sizes()
        written = 0
        for size, note in checkpoints:
            if size not in present:
                self.write(size, note)
                written += 1
        return written


def read_notes(directory: Path) -> list[tuple[str, str]]:
    """Every checkpoint file under `directory` (recursively) as (file name, note)."""
    return [
        (str(path.relative_to(directory)), path.read_text(encoding="utf-8"))
        for path in sorted(directory.rglob(f"*{SUFFIX}"))
    ]
