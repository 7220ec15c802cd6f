"""Command Structs of contact preferences and consent."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from commands.structs import Command, ShortText

ChannelName = Literal["sms", "whatsapp", "email", "push", "in_app"]
CategoryName = Literal["appointments", "reminders", "payments", "marketing"]
ConsentName = Literal["sms", "whatsapp", "email", "push", "marketing"]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Url = Annotated[str, msgspec.Meta(min_length=9, max_length=2000, pattern=r"^https://")]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_=-]+$")]


class QuietHoursBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Local times in the patient's zone; `end` before `start` spans midnight."""

    start: HHMM
    end: HHMM


class UpdateContactPreferences(Command, frozen=True, kw_only=True):
    """Change what is given, leave the rest. `quiet_hours: null` with `clear_quiet_hours`
    removes them."""

    patient_id: UUID
    channels: dict[CategoryName, list[ChannelName]] | None = None
    quiet_hours: QuietHoursBody | None = None
    clear_quiet_hours: bool = False
    language: Literal["en", "es"] | None = None
    consent: dict[ConsentName, bool] | None = None


class RecordOptOut(Command, frozen=True, kw_only=True):
    """A provider told us the patient opted out (or back in) on a channel: an inbound STOP or
    START, or a send refused with Twilio's 21610. Recorded by the system."""

    patient_id: UUID
    channel: Literal["sms", "whatsapp"]
    given: bool
    source: Literal["inbound_stop", "inbound_start", "provider_opt_out"]


class RegisterPushDevice(Command, frozen=True, kw_only=True):
    """A browser's push subscription (`PushSubscription.toJSON()`), for one patient device."""

    patient_id: UUID
    endpoint: Url
    p256dh: Key
    auth: Key


class RemovePushDevice(Command, frozen=True, kw_only=True):
    patient_id: UUID
    device_id: UUID
    reason: Literal["removed", "gone"] = "removed"


ShortReason = ShortText
