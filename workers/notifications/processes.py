"""The notification processes' loops: the reminder policy (a tracked consumer of the log, with
the projections' restart loop), and the send job a dramatiq worker runs for each delivery."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack, closing
from typing import Any
from uuid import UUID

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.projection import ProjectionRunner

from commands.context import CommandContext
from commands.notifications.messages import RecordOptOut, RemovePushDevice
from commands.scheduling import Scheduling
from domain.reminder import ReminderSettings
from projections.notifications.policy import NAME, reminder_policy
from workers.notifications.reader import SYSTEM, AppReader
from workers.notifications.send import SendJob
from workers.projection_worker import Report, run_one, runner_of


def run_reminder_policy(
    env: Mapping[str, str],
    app_class: type[Scheduling],
    view_class: type[TrackingRecorder],
    stop: threading.Event,
    report: Report | None = None,
    settings: ReminderSettings | None = None,
) -> None:
    """Run the policy until `stop` is set; a failing event stops it there, is reported and
    retried after a backoff (never skipped)."""

    def start(stack: ExitStack) -> ProjectionRunner[Any, Any]:
        # The policy reads current state through an application of its own.
        reader_app = stack.enter_context(closing(app_class(dict(env))))
        policy = reminder_policy(AppReader(reader_app), settings)
        return runner_of(policy, view_class, env, app_class)(stack)

    run_one(NAME, start, stop, report=report)


def opt_out(app: Scheduling) -> Callable[[UUID, str], None]:
    def record(patient_id: UUID, channel: str) -> None:
        command = RecordOptOut(
            patient_id=patient_id,
            channel="whatsapp" if channel == "whatsapp" else "sms",
            given=False,
            source="provider_opt_out",
        )
        app.record_opt_out(command, CommandContext(SYSTEM))

    return record


def device_gone(app: Scheduling) -> Callable[[UUID, UUID], None]:
    def remove(patient_id: UUID, device_id: UUID) -> None:
        command = RemovePushDevice(patient_id=patient_id, device_id=device_id, reason="gone")
        app.remove_push_device(command, CommandContext(SYSTEM))

    return remove


def job_runner(job: SendJob) -> Callable[[UUID, bool], None]:
    """The dramatiq worker's job: a transient failure is raised for a retry, unless it was the
    last try: then the delivery is recorded as failed and falls back."""

    def perform(delivery_id: UUID, last_try: bool) -> None:
        try:
            job.run(delivery_id)
        except Exception:
            found = job.store.get(delivery_id) if last_try else None
            if found is None:
                job.store.release(delivery_id)
                raise
            job.failed(found, "retries_exhausted")

    return perform
