"""`slotwise projections …`: rebuild a projection from the event store, compare it with the live
tables, and show how far every projection and the relay are behind the log."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra import bootstrap
from infra.observability.redaction import redact_value
from projections.status import REBUILDABLE
from workers.cli.process import say, settings


def register(commands: Any) -> None:
    """Add the `projections` command group to the CLI's subparsers."""
    group = commands.add_parser("projections", help="rebuild projections, show their lag")
    tasks = group.add_subparsers(dest="task", required=True)
    rebuild = tasks.add_parser(
        "rebuild",
        help="rebuild from the event store into shadow tables, then swap them in",
        description="Rebuild NAME from the event store into shadow tables, verify them against "
        "the store, and swap them in atomically while the live tables keep serving.",
    )
    rebuild.add_argument("projection", choices=REBUILDABLE, metavar="NAME")
    rebuild.add_argument(
        "--diff",
        action="store_true",
        help="only report rows that differ from the live tables (exit status 1 if any); "
        "the live tables are left as they are",
    )
    rebuild.add_argument("--batch", type=int, default=500, help="events per transaction")
    rebuild.set_defaults(func=cmd_rebuild)
    status = tasks.add_parser("status", help="position, lag and errors of each log reader")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)


def cmd_rebuild(args: argparse.Namespace) -> None:
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    verb = "comparing" if args.diff else "rebuilding"
    with (
        bootstrap.projection_rebuild(settings(), say) as rebuild,
        Progress(*columns, console=console) as bar,
    ):
        task = bar.add_task(f"{verb} {args.projection}", total=None, rate="")

        def progress(position: int, head: int) -> None:
            speed = bar.tasks[task].speed
            rate = f"{speed:,.0f} events/s" if speed else ""
            bar.update(task, completed=position, total=head, rate=rate)

        outcome = rebuild(args.projection, diff=args.diff, progress=progress, batch=args.batch)
    if outcome.swapped:
        say(
            f"{outcome.projection} rebuilt from {outcome.events} events up to position "
            f"{outcome.position} and swapped in"
        )
        return
    differing = [d for d in outcome.diffs if d.differs]
    for d in outcome.diffs:
        print(f"{d.table}: {d.only_live} row(s) only in live, {d.only_shadow} only in rebuild")
        # Rows with their personal columns masked: ids and statuses show what differs.
        for sample in d.live_samples:
            print(f"  live:    {json.dumps(redact_value(sample), default=str)}")
        for sample in d.shadow_samples:
            print(f"  rebuild: {json.dumps(redact_value(sample), default=str)}")
    if differing:
        sys.exit(
            f"slotwise: {len(differing)} table(s) of {outcome.projection} differ from a rebuild "
            f"at position {outcome.position}; run `slotwise projections rebuild "
            f"{outcome.projection}` to repair them"
        )
    say(f"{outcome.projection} matches a rebuild at position {outcome.position}")


def cmd_status(args: argparse.Namespace) -> None:
    with bootstrap.log_status(settings(), say) as read_status:
        status = read_status()
    if args.json:
        readers = [{**asdict(r), "stopped": r.stopped} for r in status.readers]
        print(json.dumps({"head": status.head, "readers": readers}))
        return
    table = Table(title=f"log head: {status.head}")
    for column in ("reader", "kind", "position", "lag (events)", "lag (s)", "dead letters"):
        table.add_column(column, justify="left" if column in ("reader", "kind") else "right")
    table.add_column("state")
    table.add_column("last error")
    for r in status.readers:
        table.add_row(
            r.name,
            r.kind,
            str(r.position),
            str(r.lag_events),
            f"{r.lag_seconds:.1f}",
            str(r.dead_letters),
            "STOPPED (slotwise deadletters list)" if r.stopped else "",
            r.last_error or "",
        )
    Console().print(table)
