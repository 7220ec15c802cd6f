"""The Provider aggregate: a directory profile, including the IANA zone its hours live in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ValidationError
from domain.limits import check_sizes, json_native

PROFILE_FIELDS = (
    "name",
    "specializations",
    "bio",
    "education",
    "languages",
    "latitude",
    "longitude",
    "address",
    "time_zone",
    "insurances",
    "fee_amount",
    "fee_currency",
    "accepting_new_patients",
)


def validate_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown IANA time zone {name!r}"
        raise ValidationError(msg) from None
    return name


def validate_profile(profile: dict[str, Any]) -> dict[str, Any]:
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown profile fields: {sorted(unknown)}")
    check_sizes(profile)
    if "name" in profile and not str(profile["name"]).strip():
        raise ValidationError("name must not be blank")
    if "time_zone" in profile:
        validate_zone(profile["time_zone"])
    lat, lon = profile.get("latitude"), profile.get("longitude")
    if lat is not None and not -90 <= lat <= 90:
        raise ValidationError("latitude must be between -90 and 90")
    if lon is not None and not -180 <= lon <= 180:
        raise ValidationError("longitude must be between -180 and 180")
    fee = profile.get("fee_amount")
    if fee is not None and (not isinstance(fee, Decimal) or fee < 0):
        raise ValidationError("fee_amount must be a non-negative decimal")
    currency = profile.get("fee_currency")
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise ValidationError("fee_currency must be an ISO 4217 code such as EUR")
    return json_native(profile)


class Provider(Aggregate):
    class Registered(Aggregate.Created):
        profile: dict[str, Any]
        meta: EventMeta

    @event(Registered)
    def __init__(self, id: UUID, profile: dict[str, Any], meta: EventMeta) -> None:
        self.profile: dict[str, Any] = dict(profile)

    @classmethod
    def register(cls, provider_id: UUID, profile: dict[str, Any], meta: EventMeta) -> Provider:
        missing = {"name", "time_zone"} - set(profile)
        if missing:
            raise ValidationError(f"missing profile fields: {sorted(missing)}")
        return cls(profile=validate_profile(profile), meta=meta, id=provider_id)

    @property
    def time_zone(self) -> str:
        return str(self.profile["time_zone"])

    @property
    def fee(self) -> tuple[Decimal, str] | None:
        """The consultation fee and its currency (money is kept as text inside events)."""
        amount = self.profile.get("fee_amount")
        if amount is None:
            return None
        return Decimal(str(amount)), str(self.profile.get("fee_currency", ""))

    def update(self, changes: dict[str, Any], meta: EventMeta) -> None:
        plain = validate_profile(changes)
        changed = {k: v for k, v in plain.items() if self.profile.get(k) != v}
        if changed:
            self._updated(changed, meta)

    class ProfileUpdated(Aggregate.Event):
        changes: dict[str, Any]
        meta: EventMeta

    @event(ProfileUpdated)
    def _updated(self, changes: dict[str, Any], meta: EventMeta) -> None:
        self.profile.update(changes)
