"""The Patient aggregate: registration details."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ValidationError
from domain.limits import check_fields, json_native
from domain.zone import check_zone

REGISTRATION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "birth_date": date,
    "sex": str,
    "gender": str,
    "phone": str,
    "email": str,
    "postal_code": str,
    "time_zone": str,
    "preferred_language": str,
    "notification_consent": bool,
}


def validate_registration(details: dict[str, Any], today: date) -> dict[str, Any]:
    check_fields(details, REGISTRATION_FIELDS, "registration")
    if "name" in details and not details["name"].strip():
        raise ValidationError("name must not be blank")
    if "time_zone" in details:
        check_zone(details["time_zone"])
    born = details.get("birth_date")
    if born is not None and born > today:
        raise ValidationError("birth_date must not be in the future")
    phone = details.get("phone")
    if phone is not None and not (
        phone.startswith("+") and phone[1:].isascii() and phone[1:].isdigit()
    ):
        raise ValidationError("phone must be in E.164 form, such as +4930123456")
    email = details.get("email")
    if email is not None and "@" not in email:
        raise ValidationError("email must be an address")
    return json_native(details)


class Patient(Aggregate):
    class Registered(Aggregate.Created):
        details: dict[str, Any]
        meta: EventMeta

    @event(Registered)
    def __init__(self, id: UUID, details: dict[str, Any], meta: EventMeta) -> None:
        self.details: dict[str, Any] = dict(details)

    @classmethod
    def register(
        cls, patient_id: UUID, details: dict[str, Any], today: date, meta: EventMeta
    ) -> Patient:
        missing = {"name", "time_zone"} - set(details)
        if missing:
            raise ValidationError(f"missing registration fields: {sorted(missing)}")
        return cls(details=validate_registration(details, today), meta=meta, id=patient_id)

    @property
    def birth_date(self) -> date | None:
        born = self.details.get("birth_date")
        return None if born is None else date.fromisoformat(str(born))

    def update(self, changes: dict[str, Any], today: date, meta: EventMeta) -> None:
        plain = validate_registration(changes, today)
        changed = {k: v for k, v in plain.items() if self.details.get(k) != v}
        if changed:
            self._updated(changed, meta)

    class DetailsUpdated(Aggregate.Event):
        changes: dict[str, Any]
        meta: EventMeta

    @event(DetailsUpdated)
    def _updated(self, changes: dict[str, Any], meta: EventMeta) -> None:
        self.details.update(changes)
