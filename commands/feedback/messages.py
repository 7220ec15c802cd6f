"""Command Structs of patient feedback."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from commands.structs import Command

Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Comment = Annotated[str, msgspec.Meta(max_length=2000)]


class RateVisit(Command, frozen=True, kw_only=True):
    """The patient rates their completed visit; sent again within 7 days, it edits the rating."""

    appointment_id: UUID
    rating: Rating
    comment: Comment = ""
