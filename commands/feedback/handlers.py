"""Patient feedback: a patient rates their completed visit once, and may edit it for a week;
the provider's rating (sum and count) changes in the same save."""

from __future__ import annotations

from datetime import datetime

from commands.access import require_acting
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.feedback.messages import RateVisit
from commands.workspace import Workspace
from domain.actor import EventMeta, Role
from domain.appointment import Appointment, Status
from domain.errors import InvalidTransitionError
from domain.feedback import Feedback
from domain.provider import Provider


class FeedbackCommands(SlotwiseApplication):
    @use_case
    def rate_visit(
        self, cmd: RateVisit, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        visit = ws.get(Appointment, cmd.appointment_id, "appointment")
        require_acting(ctx.actor, visit, Role.PATIENT)
        if visit.status is not Status.COMPLETED:
            raise InvalidTransitionError("only a completed visit can be rated")
        provider = ws.get(Provider, visit.provider_id, "provider")
        feedback = ws.find(Feedback, Feedback.create_id(visit.id))
        if feedback is None:
            feedback = ws.add(
                Feedback.give(
                    visit_id=visit.id,
                    patient_id=visit.patient_id,
                    provider_id=visit.provider_id,
                    rating=cmd.rating,
                    comment=cmd.comment,
                    now=now,
                    meta=meta,
                )
            )
            provider.rate(cmd.rating, None, meta)
        else:
            previous = feedback.edit(cmd.rating, cmd.comment, now, meta)
            provider.rate(cmd.rating, previous, meta)
        return Outcome(feedback.id, ws.touched(), {"provider_id": provider.id})
