"""HTTP bodies for endpoints whose target id is in the path; each maps to one command."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec

from commands.appointments.messages import FollowUpRequest
from commands.structs import LongText, ShortText
from domain.patient import ErasureReason


class Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class CompleteBody(Body, frozen=True, kw_only=True):
    notes: LongText = ""
    private_notes: LongText = ""
    vitals: dict[str, Any] = msgspec.field(default_factory=dict)
    follow_up_requested: bool = False
    follow_up: FollowUpRequest | None = None


class CancelBody(Body, frozen=True, kw_only=True):
    reason: ShortText
    fee: Decimal | None = None
    currency: str | None = None


class RescheduleBody(Body, frozen=True, kw_only=True):
    new_slot_id: UUID
    reason: ShortText = ""


class ReasonBody(Body, frozen=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class EraseBody(Body, frozen=True, kw_only=True):
    """Why the patient is erased: a code, so the record of the erasure holds no personal data."""

    reason: ErasureReason


class LegalHoldBody(Body, frozen=True, kw_only=True):
    """`held: true` sets a hold (its reason required), `held: false` releases it."""

    held: bool
    reason: ShortText = ""
