"""Patient feedback (issue 11): the patient rates their completed visit (1-5, optional
comment); sent again within 7 days it edits the rating. The provider's average and count show
in the provider read model and in search."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from api.deps import Injected
from api.openapi import COMMAND, documented
from api.schemas import Body
from api.strict import StrictBody
from commands.context import CommandContext
from commands.feedback.messages import Comment, RateVisit, Rating
from commands.scheduling import Scheduling
from commands.structs import CommandResult


class FeedbackBody(Body, frozen=True, kw_only=True):
    rating: Rating
    comment: Comment = ""


class FeedbackController(Controller):
    path = "/v1/appointments"
    tags = ["appointments"]

    @post(
        "/{appointment_id:uuid}/feedback",
        status_code=200,
        sync_to_thread=True,
        summary="Rate a completed visit",
        dto=StrictBody[FeedbackBody],
        return_dto=None,
        **documented("rateVisit", *COMMAND),
    )
    def rate(
        self,
        scheduling: Injected[Scheduling],
        context: Injected[CommandContext],
        appointment_id: FromPath[UUID],
        data: JSONBody[FeedbackBody],
    ) -> CommandResult:
        """The visit's patient only (anyone else's: 404; staff and providers: 403); 409 before
        the visit is completed, or (`too-late`) to edit a rating more than 7 days old."""
        cmd = RateVisit(appointment_id=appointment_id, rating=data.rating, comment=data.comment)
        return scheduling.rate_visit(cmd, context)
