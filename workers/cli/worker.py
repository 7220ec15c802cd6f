"""`slotwise worker …`: the long-running processes of the read side and the hold sweeper.

`worker project NAME --source log` reads the event store itself (several names run as threads
of one process); `--source kafka` consumes the relay's topics in NAME's consumer group."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from domain.video_room import VideoRoom
from infra import bootstrap
from infra.audit.wiring import LOGS
from workers.cli import notifications
from workers.cli.process import say, settings, stop_on_signals
from workers.hold_sweeper import run_sweeper
from workers.kafka_projection import KafkaProjector, run_kafka_projection
from workers.projection_worker import run_one, run_projection, runner_of
from workers.relay import run_relay
from workers.sealer import run_sealer
from workers.video_policy import RoomKeeper, run_room_keeper
from workers.video_recording import NAME as RECORDING
from workers.video_recording import recording_policy
from workers.waitlist_policy import OfferPolicy, run_offer_policy

ROW_PROJECTIONS = ("scheduling", "analytics")
# search loads aggregates and video is read from the log only
LOG_PROJECTIONS: tuple[str, ...] = (*ROW_PROJECTIONS, "search", "video")
LOG_PROJECTIONS += ("waitlist",)


def register(commands: Any) -> None:
    worker = commands.add_parser("worker", help="run a worker process")
    kinds = worker.add_subparsers(dest="name", required=True)
    project = kinds.add_parser(
        "project",
        help="run projections",
        description="Run the projections NAME, reading the event store itself (--source log) "
        "or the relay's Kafka topics (--source kafka: one row projection per process).",
    )
    project.add_argument(
        "projections",
        nargs="+",
        choices=LOG_PROJECTIONS,
        metavar="NAME",
        help=f"{', '.join(LOG_PROJECTIONS)} (search, video: --source log only)",
    )
    project.add_argument(
        "--source",
        required=True,
        choices=["log", "kafka"],
        help="log: read the event store; kafka: consume the relay's topics",
    )
    project.add_argument(
        "--skip-poison",
        action="store_true",
        help="with --source kafka: dead-letter an event that keeps failing and move on "
        "(default: stop there until an operator skips or retries it)",
    )
    project.set_defaults(func=cmd_project, parser=project)
    kinds.add_parser("holds", help="expire overdue holds").set_defaults(func=cmd_holds)
    kinds.add_parser("relay", help="publish the event log to Kafka").set_defaults(func=cmd_relay)
    video = kinds.add_parser("video", help="open, move and close video visits' rooms")
    video.set_defaults(func=cmd_video)
    waitlist = kinds.add_parser("waitlist", help="offer freed seats to the waitlist")
    waitlist.set_defaults(func=cmd_waitlist)
    seal = kinds.add_parser("seal", help="seal the event log and sign checkpoints (docs/audit.md)")
    seal.add_argument(
        "--log",
        choices=LOGS,
        default="events",
        help="events: the event store (default); access: the read audit's access records",
    )
    seal.set_defaults(func=cmd_seal)
    notifications.register_workers(kinds)  # issue 10: reminders, notify-scheduler, notify-sender


def cmd_project(args: argparse.Namespace) -> None:
    names: list[str] = list(dict.fromkeys(args.projections))
    if args.source == "log":
        if args.skip_poison:
            args.parser.error("--skip-poison applies to --source kafka only")
        _from_log(names)
        return
    if len(names) != 1 or names[0] not in ROW_PROJECTIONS:
        args.parser.error(f"--source kafka runs one of {', '.join(ROW_PROJECTIONS)}")
    _from_kafka(names[0], skip_poison=args.skip_poison)


def _from_log(names: list[str]) -> None:
    with bootstrap.log_projections(settings(), names, say) as parts:
        stop = stop_on_signals()
        run_projection(
            parts.env, parts.app_class, parts.rows, stop, parts.search, names, parts.report
        )


def _from_kafka(name: str, *, skip_poison: bool) -> None:
    stop = stop_on_signals()
    with bootstrap.kafka_projection(settings(), name, say) as parts:
        # Stopped on a dead letter, the process stays up (and says so in its status) until an
        # operator skips it or asks for a retry: `slotwise deadletters`.
        projector = KafkaProjector(
            parts.app,
            parts.changes_for,
            parts.state,
            skip_poison=skip_poison,
            stop=stop,
            transient=parts.transient,
        )
        run_kafka_projection(projector, parts.deliveries, stop, what=f"projection {name}")


def cmd_relay(_: argparse.Namespace) -> None:
    with bootstrap.relay(settings(), say) as parts:
        run_relay(
            parts.app,
            parts.publisher,
            parts.positions,
            parts.wait_for_new_events,
            stop_on_signals(),
        )


def cmd_holds(_: argparse.Namespace) -> None:
    with bootstrap.hold_sweeper(settings(), say) as parts:
        run_sweeper(parts.app, parts.queries, parts.clock, stop_on_signals())


def cmd_seal(args: argparse.Namespace) -> None:
    with bootstrap.sealer(settings(), say, args.log) as parts:
        say(f"sealing {parts.store.origin} as {parts.signer.verifier().text()}")
        run_sealer(
            parts.store,
            parts.signer,
            parts.files,
            parts.policy,
            parts.wait_for_new_events,
            stop_on_signals(),
            gap_patience=parts.gap_patience,
        )


def cmd_video(_: argparse.Namespace) -> None:
    """The room policy (this thread) and the recording policy (a tracked consumer of the log,
    in a thread of its own with its restart loop); a stop request ends both."""
    with bootstrap.room_keeper(settings(), say) as parts:
        keeper = RoomKeeper(parts.app, parts.queries, parts.rooms, parts.clock, parts.spec)
        stop = stop_on_signals()
        policy = recording_policy(parts.rooms, lambda rid: parts.app.load_or_none(VideoRoom, rid))
        start = runner_of(policy, parts.tracking, parts.env, parts.app_class)
        recorder = threading.Thread(
            target=run_one, args=(RECORDING, start, stop, None, parts.report), name=RECORDING
        )
        recorder.start()
        try:
            run_room_keeper(keeper, stop)
        finally:
            stop.set()
            recorder.join()


def cmd_waitlist(_: argparse.Namespace) -> None:
    with bootstrap.offer_policy(settings(), say) as parts:
        run_offer_policy(OfferPolicy(parts.app, parts.work, parts.clock), stop_on_signals())
