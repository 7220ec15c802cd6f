"""Command Structs of saved analytics reports (issue 14)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from commands.structs import AwareDatetime, Command, Name


class SaveReport(Command, frozen=True, kw_only=True):
    title: Name
    measure: Literal["appointments", "revenue", "performance", "access", "patients", "demographics"]
    start_from: AwareDatetime
    start_to: AwareDatetime
    group_by: (
        Literal[
            "day",
            "hour",
            "provider",
            "specialty",
            "method",
            "service",
            "age_band",
            "sex",
            "gender",
            "postal_prefix",
        ]
        | None
    ) = None
    provider_id: UUID | None = None
    specialty: Name | None = None
