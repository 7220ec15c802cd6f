"""`slotwise audit …`: export the sealed log, verify it offline or live, make and co-sign keys.

`audit verify DIR` needs no database and no Slotwise settings: only the directory and the
verifier keys given on the command line (docs/audit.md walks an auditor through it)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from infra import bootstrap
from infra.audit.export import ExportError, read_manifest, read_records, read_seals, write_export
from infra.audit.files import read_notes
from infra.audit.wiring import LOGS, verifiers
from infra.crypto.note import NoteKeyError, NoteSignerKey, NoteVerifiers
from projections.audit.checkpoint import CheckpointError
from projections.audit.verify import Report, verify
from workers.cli.process import say, settings

LOG_HELP = "events: the event store (default); access: the read audit's access records"


def register(commands: Any) -> None:
    group = commands.add_parser("audit", help="the tamper-evident log: export, verify, keys")
    tasks = group.add_subparsers(dest="task", required=True)
    export = tasks.add_parser("export", help="write the log, its leaves and checkpoints to DIR")
    export.add_argument("directory", type=Path, metavar="DIR")
    export.add_argument("--log", choices=LOGS, default="events", help=LOG_HELP)
    export.set_defaults(func=cmd_export)
    check = tasks.add_parser(
        "verify",
        help="verify an export offline (DIR) or the running database (--live)",
        description="Recompute every entry, chain hash and tree root and check them against "
        "the signed checkpoints; names the first bad position. Offline it needs only DIR and "
        "the verifier keys.",
    )
    check.add_argument("directory", type=Path, nargs="?", metavar="DIR")
    check.add_argument("--live", action="store_true", help="verify the database instead")
    check.add_argument("--log", choices=LOGS, default="events", help=f"with --live: {LOG_HELP}")
    check.add_argument("--key", action="append", default=[], help="a trusted verifier key")
    check.add_argument(
        "--key-file", action="append", default=[], type=Path, help="keys, one a line"
    )
    check.add_argument(
        "--require", action="append", default=[], metavar="NAME", help="a key name that must sign"
    )
    check.add_argument(
        "--checkpoints",
        action="append",
        default=[],
        type=Path,
        metavar="CDIR",
        help="more signed checkpoints to check (e.g. the copy kept outside the database)",
    )
    check.add_argument("--origin", help="the log's origin the checkpoints must name")
    check.set_defaults(func=cmd_verify, parser=check)
    keygen = tasks.add_parser("keygen", help="make a checkpoint signing key named NAME")
    keygen.add_argument("name", metavar="NAME")
    keygen.set_defaults(func=cmd_keygen)
    cosign = tasks.add_parser("cosign", help="add a co-signature to every checkpoint under CDIR")
    cosign.add_argument("directory", type=Path, metavar="CDIR")
    cosign.add_argument("--signer-key-file", type=Path, required=True)
    cosign.add_argument("--key", action="append", default=[], help="keys that must verify first")
    cosign.set_defaults(func=cmd_cosign)
    reindex = tasks.add_parser(
        "reindex",
        help="index the events sealed before the audit index existed (migration 0011)",
        description="Backfill the auditor's index of the event log (audit_events, "
        "audit_subjects) for events sealed before it existed, in batches, with progress; "
        "safe to rerun and beside a running sealer.",
    )
    reindex.add_argument("--batch", type=int, default=1000, help="events per transaction")
    reindex.set_defaults(func=cmd_reindex)


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def cmd_export(args: argparse.Namespace) -> None:
    with bootstrap.audit_log(settings(), say, args.log) as log:
        store = log.store
        notes = [(c.size, c.note) for c in store.checkpoints()]
        with _progress("exporting events", store.count_events()) as progress:
            manifest = write_export(
                args.directory, store.origin, store.records(), store.seals(), notes, progress
            )
    say(
        f"exported {manifest['events']} events, {manifest['sealed']} sealed, "
        f"{manifest['checkpoints']} checkpoint(s) to {args.directory}"
    )


def _keys(args: argparse.Namespace) -> list[str]:
    keys = list(args.key)
    for path in args.key_file:
        keys += [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return keys


def _report(report: Report) -> None:
    sizes = ", ".join(str(c.size) for c in report.checkpoints) or "none"
    print(f"log {report.origin}: {report.events} events read, {report.sealed} sealed")
    print(f"checkpoints matching the log: {sizes}")
    if report.ok:
        print("OK: every sealed event, chain hash and checkpoint verifies")
        return
    for finding in report.findings:
        print(f"FAIL [{finding.kind}] {finding.message}")
    first = report.first_bad_position
    sys.exit(f"slotwise: verification failed; first bad position: {first or 'see above'}")


def cmd_verify(args: argparse.Namespace) -> None:
    if args.live == (args.directory is not None):
        args.parser.error("give DIR (an export) or --live, not both")
    extra = [note for cdir in args.checkpoints for note in read_notes(cdir)]
    if args.live:
        _verify_live(args, extra)
        return
    try:
        trusted = NoteVerifiers.parse(_keys(args), args.require)
        manifest = read_manifest(args.directory)
        notes = read_notes(args.directory / "checkpoints") + extra
        with _progress("verifying events", int(manifest["events"])) as progress:
            report = verify(
                read_records(args.directory),
                read_seals(args.directory),
                notes,
                trusted,
                origin=args.origin or manifest["origin"],
                progress=progress,
            )
    except (NoteKeyError, ExportError) as error:
        sys.exit(f"slotwise: {error}")
    _report(report)


def _verify_live(args: argparse.Namespace, extra: list[tuple[str, str]]) -> None:
    config = settings()
    trusted = verifiers(config, _keys(args), args.require)
    with bootstrap.audit_log(config, say, args.log) as log:
        store = log.store
        notes = [(f"database:{c.size}", c.note) for c in store.checkpoints()]
        notes += [(f"file:{name}", note) for name, note in read_notes(log.files.path)] + extra
        with _progress("verifying events", store.count_events()) as progress:
            report = verify(
                store.records(),
                store.seals(),
                notes,
                trusted,
                origin=store.origin,
                progress=progress,
            )
    _report(report)


def cmd_keygen(args: argparse.Namespace) -> None:
    try:
        signer, secret = NoteSignerKey.generate(args.name)
    except NoteKeyError as error:
        sys.exit(f"slotwise: {error}")
    say("the first line is secret (SLOTWISE_AUDIT_SIGNING_KEY); give auditors the second")
    print(secret)
    print(signer.verifier().text())


def cmd_cosign(args: argparse.Namespace) -> None:
    try:
        signer = NoteSignerKey.parse(args.signer_key_file.read_text())
        trusted = NoteVerifiers.parse(args.key) if args.key else None
    except NoteKeyError as error:
        sys.exit(f"slotwise: {error}")
    done = 0
    for name, note in read_notes(args.directory):
        if f"\u2014 {signer.name} " in note:
            continue
        try:
            if trusted is not None:
                trusted.open(note)
        except CheckpointError as error:
            sys.exit(f"slotwise: {name}: {error}; not co-signed")
        (args.directory / name).write_text(signer.cosign(note), encoding="utf-8")
        done += 1
    say(f"co-signed {done} checkpoint(s) as {signer.name}")


def cmd_reindex(args: argparse.Namespace) -> None:
    if args.batch < 1:
        sys.exit("slotwise: --batch must be at least 1")
    with bootstrap.audit_log(settings(), say, "events") as log:
        index = log.index
        assert index is not None  # noqa: S101 - the event log always has one
        missing = index.missing()
        if missing == 0:
            say("the audit index is complete: every sealed event is indexed")
            return
        with _progress("indexing sealed events", missing) as progress:
            done = index.run(args.batch, progress)
    say(f"indexed {done} sealed event(s) that had no index row")
