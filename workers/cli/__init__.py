"""The `slotwise` command: serve the API, run workers, migrate, mint development tokens.

Each command parses its arguments, asks `infra.bootstrap` for what its process needs and
hands that to the loop in workers/ or api/; nothing here wires adapters itself."""

from __future__ import annotations

import argparse
import os
import sys

from infra.bootstrap import SetupError
from infra.observability.logs import LogSettings, LogSettingsError, configure_logging
from infra.postgres.rebuild import RebuildError
from infra.settings import SettingsError
from workers.cli import (
    audit,
    deadletters,
    export,
    keys,
    notifications,
    patients,
    projections,
    serve,
    supervise,
    tasks,
    worker,
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="slotwise", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    groups = (serve, worker, tasks, supervise, projections, deadletters, patients, audit, keys)
    for group in (*groups, export):  # export: issue 14
        group.register(commands)
    notifications.register(commands)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        configure_logging(LogSettings.from_env(os.environ))
        args.func(args)
    except (SettingsError, SetupError, RebuildError, LogSettingsError) as error:
        sys.exit(f"slotwise: {error}")
