"""The `slotwise` command: serve the API, run workers, migrate, mint development tokens.

Each command parses its arguments, asks `infra.bootstrap` for what its process needs and
hands that to the loop in workers/ or api/; nothing here wires adapters itself."""

from __future__ import annotations

import argparse
import logging
import sys

from infra.bootstrap import SetupError
from infra.postgres.rebuild import RebuildError
from infra.settings import SettingsError
from workers.cli import audit, projections, serve, supervise, tasks, worker


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="slotwise", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    for group in (serve, worker, tasks, supervise, projections, audit):
        group.register(commands)
    return root


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (SettingsError, SetupError, RebuildError) as error:
        sys.exit(f"slotwise: {error}")
