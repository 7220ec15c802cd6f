"""Saved reports capability (issue 14): an analyst saves a report definition of their own."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from commands.access import require_role
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.reports.messages import SaveReport
from domain.actor import EventMeta, Role
from domain.saved_report import Measure, SavedReport, check_definition


class ReportCommands(SlotwiseApplication):
    @use_case
    def save_report(
        self, cmd: SaveReport, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_role(ctx.actor, Role.ANALYST)
        check_definition(Measure(cmd.measure), cmd.group_by, cmd.start_from, cmd.start_to)
        report = SavedReport(
            id=uuid4(),
            owner_id=ctx.actor.subject,
            name=cmd.title,
            measure=cmd.measure,
            group_by=cmd.group_by,
            provider_id=cmd.provider_id,
            specialty=cmd.specialty,
            start_from=cmd.start_from,
            start_to=cmd.start_to,
            meta=meta,
        )
        return Outcome(report.id, [report])
