"""The Provider aggregate: a directory profile, including the IANA zone its hours live in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ValidationError
from domain.limits import check_fields, json_native
from domain.money import check_amount, check_currency
from domain.zone import check_zone

PROFILE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "specializations": list,
    "bio": str,
    "education": str,
    "languages": list,
    "latitude": (int, float),
    "longitude": (int, float),
    "address": str,
    "time_zone": str,
    "insurances": list,
    "fee_amount": Decimal,
    "fee_currency": str,
    "accepting_new_patients": bool,
}


def validate_profile(profile: dict[str, Any]) -> dict[str, Any]:
    check_fields(profile, PROFILE_FIELDS, "profile")
    if "name" in profile and not profile["name"].strip():
        raise ValidationError("name must not be blank")
    if "time_zone" in profile:
        check_zone(profile["time_zone"])
    lat, lon = profile.get("latitude"), profile.get("longitude")
    if lat is not None and not -90 <= lat <= 90:
        raise ValidationError("latitude must be between -90 and 90")
    if lon is not None and not -180 <= lon <= 180:
        raise ValidationError("longitude must be between -180 and 180")
    if "fee_amount" in profile:
        check_amount("fee_amount", profile["fee_amount"])
    if "fee_currency" in profile:
        check_currency("fee_currency", profile["fee_currency"])
    return json_native(profile)


def average_rating(total: int, count: int) -> Decimal | None:
    """The average of `count` ratings adding up to `total`, to two places (None for none)."""
    if not count:
        return None
    return (Decimal(total) / count).quantize(Decimal("0.01"))


class Provider(Aggregate):
    class Registered(Aggregate.Created):
        profile: dict[str, Any]
        meta: EventMeta

    @event(Registered)
    def __init__(self, id: UUID, profile: dict[str, Any], meta: EventMeta) -> None:
        self.profile: dict[str, Any] = dict(profile)
        self.rating_sum = 0
        self.rating_count = 0

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

    @property
    def rating(self) -> Decimal | None:
        """The average of patients' ratings, to two places; None before the first."""
        return average_rating(self.rating_sum, self.rating_count)

    def rate(self, rating: int, previous: int | None, meta: EventMeta) -> None:
        """Count a patient's rating of a visit (`previous`: the one it replaces, if edited)."""
        count = self.rating_count + (0 if previous is not None else 1)
        total = self.rating_sum + rating - (previous or 0)
        self._rated(total, count, meta)

    class Rated(Aggregate.Event):
        rating_sum: int
        rating_count: int
        meta: EventMeta

    @event(Rated)
    def _rated(self, rating_sum: int, rating_count: int, meta: EventMeta) -> None:
        self.rating_sum = rating_sum
        self.rating_count = rating_count
