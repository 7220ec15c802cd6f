"""One-off tasks: `slotwise db migrate`, `slotwise search rebuild`, `slotwise events export`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from infra import bootstrap
from projections.integration import Catalog, documents
from workers.cli.process import say, settings
from workers.search_rebuild import rebuild_search


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database tasks")
    db.add_argument("task", choices=["migrate"])
    db.set_defaults(func=cmd_migrate)
    search = commands.add_parser("search", help="search index tasks")
    search.add_argument("task", choices=["rebuild"])
    search.set_defaults(func=cmd_search_rebuild)
    events = commands.add_parser("events", help="integration event documents")
    events.add_argument("task", choices=["export"])
    events.add_argument("--directory", default="docs", help="where to write (default: docs)")
    events.add_argument("--check", action="store_true", help="fail if the files are stale")
    events.set_defaults(func=cmd_events_export)


def cmd_migrate(_: argparse.Namespace) -> None:
    dbname, applied = bootstrap.migrate(settings(), say)
    say(f"database {dbname}: {len(applied)} migration(s) applied {applied}")


def cmd_search_rebuild(_: argparse.Namespace) -> None:
    with bootstrap.search_rebuild(settings(), say) as parts:
        counts = rebuild_search(parts.app, parts.index, parts.clock.now, say)
    say(f"search rebuilt: {counts}")


def cmd_events_export(args: argparse.Namespace) -> None:
    root = Path(args.directory)
    stale = []
    for relative, content in documents(Catalog()).items():
        path = root / relative
        if args.check:
            if not path.exists() or path.read_bytes() != content + b"\n":
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content + b"\n")
    if stale:
        sys.exit(f"slotwise: out of date: {', '.join(stale)}; run `slotwise events export`")
    say(f"event documents {'checked' if args.check else 'written'} in {root}")
