"""Demographic bands of patients for analytics (issue 14): a row per patient in
`an_patient_bands` with only coarse values derived from their decrypted personal data (birth
year, sex and gender codes, the postal code's first three characters), deleted when the patient
is erased. Erased or missing values are stored as nulls ("unknown" in the figures)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from domain.patient import Patient
from domain.personal import PersonalData
from projections.changes import Change, Delete, Handlers, Update, Upsert

BANDS = "an_patient_bands"
POSTAL_PREFIX = 3
CODE_LENGTH = 32
SOURCES = {"birth_date", "sex", "gender", "postal_code"}


def _plain(value: Any) -> Any:
    if isinstance(value, PersonalData):
        return None if value.is_erased else value.value
    return value


def _code(value: Any) -> str | None:
    text = _plain(value)
    if not isinstance(text, str) or not text.strip():
        return None
    return text.strip().lower()[:CODE_LENGTH]


def _birth_year(value: Any) -> int | None:
    born = _plain(value)
    if born is None:
        return None
    try:
        return date.fromisoformat(str(born)).year
    except ValueError:
        return None


def _postal_prefix(value: Any) -> str | None:
    code = _plain(value)
    if not isinstance(code, str):
        return None
    compact = "".join(c for c in code if c.isalnum()).upper()
    return compact[:POSTAL_PREFIX] if len(compact) >= POSTAL_PREFIX else None


DERIVE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "birth_date": ("birth_year", _birth_year),
    "sex": ("sex", _code),
    "gender": ("gender", _code),
    "postal_code": ("postal_prefix", _postal_prefix),
}


def bands_of(details: dict[str, Any]) -> dict[str, Any]:
    """The coarse bands of the personal details given (only those present)."""
    return {
        column: derive(details[field])
        for field, (column, derive) in DERIVE.items()
        if field in details
    }


def register_demographics(
    handlers: Handlers[list[Change]], stamp: Callable[[Aggregate.Event], dict[str, Any]]
) -> None:
    @handlers.on(Patient.Registered)
    def _(event: Patient.Registered) -> list[Change]:
        values = {column: None for column, _ in DERIVE.values()}
        values.update(bands_of(event.details))
        return [Upsert(BANDS, {"patient_id": event.originator_id}, {**values, **stamp(event)})]

    @handlers.on(Patient.DetailsUpdated)
    def _(event: Patient.DetailsUpdated) -> list[Change]:
        values = bands_of(event.changes)
        if not values:
            return []
        return [Update(BANDS, {"patient_id": event.originator_id}, {**values, **stamp(event)})]

    @handlers.on(Patient.Erased)
    def _(event: Patient.Erased) -> list[Change]:
        return [Delete(BANDS, {"patient_id": event.originator_id})]
