"""Command Structs of recurring series."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from commands.appointments.messages import AppointmentType, Symptoms
from commands.structs import AwareDatetime, Command, ShortText

Mode = Literal["all_or_nothing", "partial"]
Scope = Literal["one", "following", "all"]
RuleText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Exdates = Annotated[list[AwareDatetime], msgspec.Meta(max_length=52)]


class BookSeries(Command, frozen=True, kw_only=True):
    """Book every occurrence of `rrule` from `first_start` (its wall time in the provider's
    zone is the anchor), each in a slot of the provider that starts then."""

    provider_id: UUID
    first_start: AwareDatetime
    rrule: RuleText
    mode: Mode
    appointment_type: AppointmentType = "in_person"
    exdates: Exdates = []
    patient_id: UUID | None = None
    reason: ShortText = ""
    symptoms: Symptoms = []


class CancelSeries(Command, frozen=True, kw_only=True):
    """Cancel one occurrence, this one and the following (the series splits), or all."""

    series_id: UUID
    scope: Scope
    recurrence_id: AwareDatetime | None = None
    reason: ShortText = ""


class RescheduleSeries(Command, frozen=True, kw_only=True):
    """Move one occurrence to `new_start`, or shift this and the following (the series
    splits) or all by the same wall-clock amount; each needs a free seat then."""

    series_id: UUID
    scope: Scope
    new_start: AwareDatetime
    recurrence_id: AwareDatetime | None = None
    reason: ShortText = ""
