"""The `as_of` / `as_of_position` query parameters of the appointment and schedule reads: the
view rebuilt from the event log up to a past record time or log position (projections/history
.py), for staff and auditors, labelled in response headers with the position and the checkpoint
it corresponds to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.datastructures import ResponseHeader
from litestar.params import QueryParameter

from api.deps import aware
from domain.actor import Actor, Role
from domain.errors import ForbiddenError, ValidationError
from projections.history import AsOf, History

AS_OF_ROLES = frozenset({Role.STAFF, Role.AUDITOR})
POSITION_HEADER = "Slotwise-As-Of-Position"
CHECKPOINT_HEADER = "Slotwise-As-Of-Checkpoint"

AsOfTime = Annotated[
    datetime | None,
    QueryParameter(
        name="as_of",
        required=False,
        description=(
            "Staff and auditors: the view as it was at this record time (when Slotwise learned "
            "of each change, not when the visit took place), rebuilt from the event log."
        ),
    ),
]
AsOfPosition = Annotated[
    int | None,
    QueryParameter(
        name="as_of_position",
        required=False,
        ge=0,
        le=10**18,
        description="Staff and auditors: the view as it was after this log position.",
    ),
]
AS_OF_HEADERS = [
    ResponseHeader(
        name=POSITION_HEADER,
        description="With as_of: the last log position the view includes.",
        required=False,
        documentation_only=True,
    ),
    ResponseHeader(
        name=CHECKPOINT_HEADER,
        description="With as_of: the first signed checkpoint (tree size) holding that position.",
        required=False,
        documentation_only=True,
    ),
]


def wanted_position(
    actor: Actor, history: History, when: datetime | None, position: int | None
) -> int | None:
    """The log position an as-of read asks for (None: a read of the current read model)."""
    if when is None and position is None:
        return None
    if actor.role not in AS_OF_ROLES:
        raise ForbiddenError("as_of and as_of_position are for staff and auditors")
    if when is not None and position is not None:
        raise ValidationError("give as_of or as_of_position, not both")
    if position is not None:
        return position
    assert when is not None  # noqa: S101 - one of the two is set
    return history.position_at(aware(when, "as_of"))


def headers(label: AsOf) -> dict[str, str]:
    found = {POSITION_HEADER: str(label.position)}
    if label.checkpoint_size is not None:
        found[CHECKPOINT_HEADER] = str(label.checkpoint_size)
    return found
