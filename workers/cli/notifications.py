"""`slotwise worker reminders|notify-scheduler|notify-sender` (issue 10's processes) and
`slotwise notifications outbox` (what dev mode's recording channels took)."""

from __future__ import annotations

import argparse
from typing import Any

from infra import bootstrap
from infra.bootstrap import notifications as wiring
from infra.notifications.recorder import Outbox
from infra.postgres.notifications.plans import PostgresPlanView
from infra.postgres.pool import connection_pool
from workers.cli.process import say, settings, stop_on_signals
from workers.notifications.processes import (
    device_gone,
    job_runner,
    opt_out,
    run_reminder_policy,
)
from workers.notifications.reader import AppReader
from workers.notifications.scheduler import Scheduler, run_scheduler
from workers.notifications.send import Branding, SendJob


def register_workers(kinds: Any) -> None:
    """The notification workers, under `slotwise worker`."""
    kinds.add_parser(
        "reminders", help="the reminder policy: keep the due table equal to the desired plan"
    ).set_defaults(func=cmd_reminders)
    kinds.add_parser(
        "notify-scheduler", help="hand due notifications to send jobs (several may run)"
    ).set_defaults(func=cmd_scheduler)
    sender = kinds.add_parser("notify-sender", help="run notification send jobs (dramatiq)")
    sender.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    sender.set_defaults(func=cmd_sender)


def register(commands: Any) -> None:
    group = commands.add_parser("notifications", help="notifications (dev mode's outbox)")
    kinds = group.add_subparsers(dest="what", required=True)
    outbox = kinds.add_parser("outbox", help="what the recording channels would have sent")
    outbox.add_argument("--limit", type=int, default=20)
    outbox.set_defaults(func=cmd_outbox)


def cmd_reminders(_: argparse.Namespace) -> None:
    with bootstrap.log_projections(settings(), ["notifications"], say) as parts:
        run_reminder_policy(
            parts.env, parts.app_class, PostgresPlanView, stop_on_signals(), parts.report
        )


def cmd_scheduler(_: argparse.Namespace) -> None:
    with wiring.notification_scheduler(settings(), say) as parts:
        scheduler = Scheduler(parts.store, parts.queue, parts.clock, stuck_after=parts.stuck_after)
        run_scheduler(scheduler, stop_on_signals())


def cmd_sender(args: argparse.Namespace) -> None:
    stop = stop_on_signals()
    with wiring.notification_sender(settings(), say) as parts:
        job = SendJob(
            AppReader(parts.app),
            parts.store,
            parts.channels,
            parts.clock,
            Branding(parts.clinic, parts.link_base, parts.recipient_key),
            parts.sends.enqueue,
            opt_out(parts.app),
            device_gone(parts.app),
        )
        parts.sends.serve(job_runner(job), stop, threads=max(args.threads, 1))


def cmd_outbox(args: argparse.Namespace) -> None:
    db = bootstrap.database(settings(), say)
    with connection_pool(db.conninfo, 1) as pool:
        for row in reversed(Outbox(pool).recent(max(args.limit, 1))):
            subject = f" [{row.subject}]" if row.subject else ""
            print(f"{row.recorded_at:%Y-%m-%d %H:%M:%S} {row.channel:8} {row.recipient}{subject}")
            print(f"    {row.body}")
