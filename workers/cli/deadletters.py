"""`slotwise deadletters …`: what a projection is stopped on, and the operator's way out: skip
the event (audited) or ask the worker to retry it after a fix. Works on a running stack: the
stopped worker waits on its dead letter and goes on as soon as it is skipped or retried."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from infra import bootstrap
from projections.delivery import LetterNotBlockingError, LetterSummary, UnknownLetterError
from workers.cli.process import say, settings


def register(commands: Any) -> None:
    group = commands.add_parser("deadletters", help="inspect, skip or retry dead letters")
    tasks = group.add_subparsers(dest="task", required=True)
    listing = tasks.add_parser("list", help="dead letters, oldest first")
    listing.add_argument("projection", nargs="?", metavar="PROJECTION")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)
    show = tasks.add_parser("show", help="one dead letter and what was done about it")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=cmd_show)
    for action, text in (
        ("skip", "pass over the event for good (its read-model rows stay unchanged)"),
        ("retry", "have the worker try the event again (after a fix forward)"),
    ):
        task = tasks.add_parser(action, help=text)
        task.add_argument("id", type=int, metavar="ID")
        task.add_argument("--reason", required=True, help="why, for the audit record")
        task.add_argument("--operator", default=None, help="who (default: the OS user)")
        task.set_defaults(func=cmd_act, action=action)


def _row(letter: LetterSummary) -> dict[str, Any]:
    return {**asdict(letter), "event_id": str(letter.event_id), "failed_at": str(letter.failed_at)}


def cmd_list(args: argparse.Namespace) -> None:
    with bootstrap.dead_letters(settings(), say) as letters:
        found = letters.list(args.projection)
    if args.json:
        print(json.dumps([_row(letter) for letter in found]))
        return
    table = Table(title="dead letters")
    for column in ("id", "projection", "state", "position", "event id", "topic", "reason"):
        table.add_column(column)
    for letter in found:
        table.add_row(
            str(letter.id),
            letter.projection,
            letter.state,
            str(letter.position),
            str(letter.event_id),
            letter.topic or "",
            letter.reason,
        )
    Console().print(table)


def cmd_show(args: argparse.Namespace) -> None:
    with bootstrap.dead_letters(settings(), say) as letters:
        try:
            detail = letters.show(args.id)
        except UnknownLetterError as error:
            sys.exit(f"slotwise: {error}")
    report = {
        **_row(detail.letter),
        "event_type": detail.letter.event_type,
        "aggregate_id": str(detail.aggregate_id),
        "aggregate_version": detail.aggregate_version,
        "actions": [{**asdict(a), "acted_at": str(a.acted_at)} for a in detail.actions],
    }
    print(json.dumps(report, indent=None if args.json else 2))


def cmd_act(args: argparse.Namespace) -> None:
    operator = args.operator or getpass.getuser()
    with bootstrap.dead_letters(settings(), say) as letters:
        try:
            letter = letters.act(args.id, args.action, operator, args.reason)
        except (UnknownLetterError, LetterNotBlockingError) as error:
            sys.exit(f"slotwise: {error}")
    say(
        f"dead letter {letter.id} of {letter.projection} ({letter.event_type} at position "
        f"{letter.position}) is now {letter.state}, by {operator}"
    )
