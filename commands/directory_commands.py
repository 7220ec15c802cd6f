"""Command Structs of the provider and patient directory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from commands.structs import Command, LongText, Name, ShortText

Tags = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=50)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Fee = Decimal


class ProviderProfile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    time_zone: ShortText | msgspec.UnsetType = msgspec.UNSET
    specializations: Tags | msgspec.UnsetType = msgspec.UNSET
    bio: LongText | msgspec.UnsetType = msgspec.UNSET
    education: LongText | msgspec.UnsetType = msgspec.UNSET
    languages: Tags | msgspec.UnsetType = msgspec.UNSET
    latitude: Latitude | msgspec.UnsetType = msgspec.UNSET
    longitude: Longitude | msgspec.UnsetType = msgspec.UNSET
    address: ShortText | msgspec.UnsetType = msgspec.UNSET
    insurances: Tags | msgspec.UnsetType = msgspec.UNSET
    fee_amount: Fee | msgspec.UnsetType = msgspec.UNSET
    fee_currency: Currency | msgspec.UnsetType = msgspec.UNSET
    accepting_new_patients: bool | msgspec.UnsetType = msgspec.UNSET


class RegisterProvider(Command, frozen=True, kw_only=True):
    provider_id: UUID | None = None
    profile: ProviderProfile


class UpdateProvider(Command, frozen=True, kw_only=True):
    provider_id: UUID
    profile: ProviderProfile


class PatientDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    birth_date: date | msgspec.UnsetType = msgspec.UNSET
    sex: ShortText | msgspec.UnsetType = msgspec.UNSET
    gender: ShortText | msgspec.UnsetType = msgspec.UNSET
    phone: ShortText | msgspec.UnsetType = msgspec.UNSET
    email: ShortText | msgspec.UnsetType = msgspec.UNSET
    postal_code: ShortText | msgspec.UnsetType = msgspec.UNSET
    time_zone: ShortText | msgspec.UnsetType = msgspec.UNSET
    preferred_language: ShortText | msgspec.UnsetType = msgspec.UNSET
    notification_consent: bool | msgspec.UnsetType = msgspec.UNSET


class RegisterPatient(Command, frozen=True, kw_only=True):
    patient_id: UUID | None = None
    details: PatientDetails


class UpdatePatient(Command, frozen=True, kw_only=True):
    patient_id: UUID
    details: PatientDetails


def given_fields(struct: msgspec.Struct) -> dict[str, object]:
    """The fields the caller actually sent (UNSET ones left out)."""
    return {
        f: getattr(struct, f)
        for f in struct.__struct_fields__
        if getattr(struct, f) is not msgspec.UNSET
    }
