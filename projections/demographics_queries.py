"""Demographics of the patients seen in a period (issue 14), with small-cell suppression.

Population: patients with a visit (an appointment now `completed`) starting in the period
(the `seen` patients of the patient measures), optionally of one provider. Each patient falls
in one cell per dimension: `age_band` (age reached in the year the period ends, from the birth
year: 0-17, 18-34, 35-49, 50-64, 65-79, 80+), `sex`, `gender` (the codes as registered, lower
case), `postal_prefix` (first three characters of the postal code); `unknown` when not given
or erased.

Suppression: a cell under 11 patients is shown as suppressed (its count null). Complementary
suppression: when exactly one cell is suppressed, or the suppressed cells add up to fewer
than 11, the next smallest cells are suppressed too, until neither holds, so that no
suppressed count can be derived from the total and the others. A total under 11 is
suppressed with every cell."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

THRESHOLD = 11
UNKNOWN = "unknown"
AGE_BANDS = ((0, 17), (18, 34), (35, 49), (50, 64), (65, 79))


class Dimension(StrEnum):
    AGE_BAND = "age_band"
    SEX = "sex"
    GENDER = "gender"
    POSTAL_PREFIX = "postal_prefix"


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return UNKNOWN
    for low, high in AGE_BANDS:
        if age <= high:
            return f"{low}-{high}"
    return "80+"


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    value: str
    patients: int | None  # null when suppressed
    suppressed: bool


class Demographics(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime = msgspec.field(name="from")
    start_to: datetime = msgspec.field(name="to")
    provider_id: UUID | None
    dimension: Dimension
    threshold: int
    patients: int | None  # the total seen; null when suppressed
    total_suppressed: bool
    cells: list[Cell]


def suppress(counts: dict[str, int], threshold: int = THRESHOLD) -> tuple[list[Cell], bool]:
    """Cells in value order with small and complementary cells suppressed, and whether the
    total is suppressed. Empty cells (zero patients) are not listed."""
    present = {v: n for v, n in counts.items() if n > 0}
    total = sum(present.values())
    hidden = {v for v, n in present.items() if n < threshold}
    total_hidden = 0 < total < threshold
    if total_hidden:
        hidden = set(present)
    by_size = sorted((n, v) for v, n in present.items() if v not in hidden)
    while hidden and by_size and (len(hidden) == 1 or sum(present[v] for v in hidden) < threshold):
        hidden.add(by_size.pop(0)[1])
    cells = [
        Cell(value=v, patients=None if v in hidden else n, suppressed=v in hidden)
        for v, n in sorted(present.items())
    ]
    return cells, total_hidden
