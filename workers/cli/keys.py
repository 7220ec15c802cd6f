"""`slotwise keys rotate`: re-wrap every patient's data key under the current key-encryption key
(docs/privacy.md, "KEK rotation"). Events are never re-encrypted."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from infra import bootstrap
from infra.crypto.kek import KekError
from workers.cli.process import say, settings


def register(commands: Any) -> None:
    keys = commands.add_parser("keys", help="personal-data keys: KEK rotation")
    tasks = keys.add_subparsers(dest="task", required=True)
    rotate = tasks.add_parser(
        "rotate",
        help="re-wrap every data key under SLOTWISE_KEK (the old KEK in SLOTWISE_KEK_RETIRED)",
    )
    rotate.set_defaults(func=cmd_rotate)


def cmd_rotate(_: argparse.Namespace) -> None:
    try:
        with bootstrap.key_rotation(settings(), say) as rotate:
            say("re-wrapping data keys under the current KEK ...")
            count = rotate()
    except KekError as refused:
        sys.exit(f"slotwise: {refused}; put the KEK that wrapped them in SLOTWISE_KEK_RETIRED")
    say(
        f"{count} data key(s) re-wrapped; once every process runs with the new KEK, "
        "remove the old one from SLOTWISE_KEK_RETIRED"
    )
