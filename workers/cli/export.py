"""`slotwise export parquet DIR [--since POSITION]`: the event log and the analytics facts as
Parquet files for analysts (ids, codes, times and amounts only; docs/analytics.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from infra import bootstrap
from workers.cli.process import say, settings


def register(commands: Any) -> None:
    group = commands.add_parser("export", help="export for analysts")
    formats = group.add_subparsers(dest="format", required=True)
    parquet = formats.add_parser(
        "parquet",
        help="the event log and the analytics facts as Parquet files under DIR",
        description="Resumes after the last exported position unless --since is given.",
    )
    parquet.add_argument("directory", type=Path, metavar="DIR")
    parquet.add_argument("--since", type=int, default=None, metavar="POSITION")
    parquet.set_defaults(func=cmd_parquet)


def cmd_parquet(args: argparse.Namespace) -> None:
    columns = (
        TextColumn("exporting rows"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("export", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        export = bootstrap.parquet_export(settings(), args.directory, progress, say)
        result = export.run(args.since)
    say(
        f"exported events after position {result.from_position} up to {result.to_position} "
        f"({result.events} events) and {sum(result.facts.values())} fact rows to {args.directory}"
    )
