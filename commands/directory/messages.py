"""Command Structs of the provider and patient directory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import msgspec

from commands.structs import Command, ShortText
from domain.patient import ErasureReason


class ProviderProfile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are. Values are checked by the domain (lengths, ranges)."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    time_zone: str | msgspec.UnsetType = msgspec.UNSET
    specializations: list[str] | msgspec.UnsetType = msgspec.UNSET
    bio: str | msgspec.UnsetType = msgspec.UNSET
    education: str | msgspec.UnsetType = msgspec.UNSET
    languages: list[str] | msgspec.UnsetType = msgspec.UNSET
    latitude: float | msgspec.UnsetType = msgspec.UNSET
    longitude: float | msgspec.UnsetType = msgspec.UNSET
    address: str | msgspec.UnsetType = msgspec.UNSET
    insurances: list[str] | msgspec.UnsetType = msgspec.UNSET
    fee_amount: Decimal | msgspec.UnsetType = msgspec.UNSET
    fee_currency: str | msgspec.UnsetType = msgspec.UNSET
    accepting_new_patients: bool | msgspec.UnsetType = msgspec.UNSET


class RegisterProvider(Command, frozen=True, kw_only=True):
    provider_id: UUID | None = None
    profile: ProviderProfile


class UpdateProvider(Command, frozen=True, kw_only=True):
    provider_id: UUID
    profile: ProviderProfile


class PatientDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    birth_date: date | msgspec.UnsetType = msgspec.UNSET
    sex: str | msgspec.UnsetType = msgspec.UNSET
    gender: str | msgspec.UnsetType = msgspec.UNSET
    phone: str | msgspec.UnsetType = msgspec.UNSET
    email: str | msgspec.UnsetType = msgspec.UNSET
    postal_code: str | msgspec.UnsetType = msgspec.UNSET
    time_zone: str | msgspec.UnsetType = msgspec.UNSET
    preferred_language: str | msgspec.UnsetType = msgspec.UNSET
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


class ErasePatient(Command, frozen=True, kw_only=True):
    """Erase the patient's personal data everywhere (staff): the reason is a code."""

    patient_id: UUID
    reason: ErasureReason


class SetLegalHold(Command, frozen=True, kw_only=True):
    """Set (`held`) or release a legal hold on the patient's records (staff). A hold needs a
    reason, kept as the patient's personal data."""

    patient_id: UUID
    held: bool
    reason: ShortText = ""
