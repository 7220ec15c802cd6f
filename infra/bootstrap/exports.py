"""The Parquet export's builder (issue 14): the database the export reads, wired to the writer."""

from __future__ import annotations

from pathlib import Path

from infra.bootstrap.base import Say, database
from infra.parquet.export import ParquetExport, Progress
from infra.settings import Settings


def parquet_export(
    settings: Settings, directory: Path, progress: Progress, say: Say = print
) -> ParquetExport:
    """`slotwise export parquet DIR`: connects per run, so nothing is left to close."""
    return ParquetExport(database(settings, say).conninfo, directory, progress)
