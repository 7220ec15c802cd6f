"""The Patient aggregate: registration details, legal holds and erasure.

Personal details (name, birth date, sex, gender, phone, email, postal code, address) are
recorded as `PersonalData` of the patient, so erasing the patient's key erases them in every
event at once; codes (time zone, language, consent) stay clear. Erasure records an event with
no personal data at all; a legal hold blocks it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ConflictError, ValidationError
from domain.limits import check_fields, check_reason, json_native
from domain.personal import PersonalData, SubjectErasedError, personal
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
# The details that identify or describe the patient; the rest are codes.
PERSONAL_FIELDS = frozenset(
    {"name", "birth_date", "sex", "gender", "phone", "email", "postal_code", "address"}
)


class LegalHoldError(ConflictError):
    """The patient's records are under a legal hold: they may not be erased until released."""


class ErasureReason(StrEnum):
    """Why a patient was erased: a code, so the erasure event itself holds no personal data."""

    PATIENT_REQUEST = "patient_request"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    NO_LONGER_NEEDED = "no_longer_needed"
    UNLAWFUL_PROCESSING = "unlawful_processing"
    LEGAL_OBLIGATION = "legal_obligation"


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


def wrap_details(subject: UUID, details: dict[str, Any]) -> dict[str, Any]:
    """`details` with every personal value as the subject's `PersonalData` (wrapped ones kept)."""
    return {k: personal(subject, v) if k in PERSONAL_FIELDS else v for k, v in details.items()}


def _upcast_details(field: str) -> Any:
    def upcast(state: dict[str, Any]) -> None:
        # Events recorded before personal data was wrapped hold plain values.
        state[field] = wrap_details(state["originator_id"], state[field])

    return staticmethod(upcast)


class Patient(Aggregate):
    class Registered(Aggregate.Created):
        class_version = 2
        upcast_v1_v2 = _upcast_details("details")
        details: dict[str, Any]
        meta: EventMeta

    @event(Registered)
    def __init__(self, id: UUID, details: dict[str, Any], meta: EventMeta) -> None:
        self.details: dict[str, Any] = dict(details)
        self.legal_hold = False
        self.erased = False

    @classmethod
    def register(
        cls, patient_id: UUID, details: dict[str, Any], today: date, meta: EventMeta
    ) -> Patient:
        missing = {"name", "time_zone"} - set(details)
        if missing:
            raise ValidationError(f"missing registration fields: {sorted(missing)}")
        plain = validate_registration(details, today)
        return cls(details=wrap_details(patient_id, plain), meta=meta, id=patient_id)

    @property
    def birth_date(self) -> date | None:
        born = self.details.get("birth_date")
        if isinstance(born, PersonalData):
            born = None if born.is_erased else born.value
        return None if born is None else date.fromisoformat(str(born))

    def require_not_erased(self) -> None:
        """Refuse (`SubjectErasedError`) anything new for an erased patient, such as a booking."""
        if self.erased:
            raise SubjectErasedError(f"patient {self.id} was erased")

    def update(self, changes: dict[str, Any], today: date, meta: EventMeta) -> None:
        self.require_not_erased()
        wrapped = wrap_details(self.id, validate_registration(changes, today))
        changed = {k: v for k, v in wrapped.items() if self.details.get(k) != v}
        if changed:
            self._updated(changed, meta)

    class DetailsUpdated(Aggregate.Event):
        class_version = 2
        upcast_v1_v2 = _upcast_details("changes")
        changes: dict[str, Any]
        meta: EventMeta

    @event(DetailsUpdated)
    def _updated(self, changes: dict[str, Any], meta: EventMeta) -> None:
        self.details.update(changes)

    def set_legal_hold(self, reason: str, meta: EventMeta) -> None:
        """Hold the patient's records (staff); an erasure is refused until it is released."""
        check_reason(reason)
        self.require_not_erased()
        if not self.legal_hold:
            self._hold_set(personal(self.id, reason), meta)

    class LegalHoldSet(Aggregate.Event):
        reason: PersonalData
        meta: EventMeta

    @event(LegalHoldSet)
    def _hold_set(self, reason: PersonalData, meta: EventMeta) -> None:
        self.legal_hold = True

    def release_legal_hold(self, meta: EventMeta) -> None:
        if self.legal_hold:
            self._hold_released(meta)

    class LegalHoldReleased(Aggregate.Event):
        meta: EventMeta

    @event(LegalHoldReleased)
    def _hold_released(self, meta: EventMeta) -> None:
        self.legal_hold = False

    def erase(self, reason: ErasureReason, meta: EventMeta) -> bool:
        """Record the erasure; False if the patient was erased already (nothing recorded)."""
        if self.legal_hold:
            raise LegalHoldError("the patient's records are under a legal hold; release it first")
        if self.erased:
            return False
        self._erased(ErasureReason(reason).value, meta)
        return True

    class Erased(Aggregate.Event):
        """No personal data: the reason is a code (`ErasureReason`)."""

        reason: str
        meta: EventMeta

    @event(Erased)
    def _erased(self, reason: str, meta: EventMeta) -> None:
        self.erased = True
        self.details = {k: v for k, v in self.details.items() if k not in PERSONAL_FIELDS}
