"""Small-cell suppression and the coarse bands derived from personal data (issue 14)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.personal import PersonalData
from projections.demographics import bands_of
from projections.demographics_queries import Cell, age_band, suppress


def shown(cells: list[Cell]) -> dict[str, int | None]:
    return {c.value: c.patients for c in cells}


def test_cells_of_eleven_or_more_are_shown_and_none_is_suppressed() -> None:
    cells, total_hidden = suppress({"a": 11, "b": 20})
    assert shown(cells) == {"a": 11, "b": 20}
    assert not total_hidden


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    cells, total_hidden = suppress({"a": 10, "b": 30, "c": 12})
    assert shown(cells) == {"a": None, "b": 30, "c": None}
    assert not total_hidden


def test_small_cells_adding_up_to_under_eleven_take_another_with_them() -> None:
    cells, _ = suppress({"a": 1, "b": 2, "c": 40, "d": 15})
    assert shown(cells) == {"a": None, "b": None, "c": 40, "d": None}


def test_small_cells_adding_up_to_eleven_are_enough_together() -> None:
    cells, _ = suppress({"a": 5, "b": 6, "c": 40})
    assert shown(cells) == {"a": None, "b": None, "c": 40}


def test_a_total_under_eleven_is_suppressed_with_every_cell() -> None:
    cells, total_hidden = suppress({"a": 4, "b": 6})
    assert total_hidden
    assert shown(cells) == {"a": None, "b": None}
    assert all(c.suppressed for c in cells)


def test_empty_cells_are_not_listed_and_nothing_is_nothing() -> None:
    assert suppress({"a": 0, "b": 12}) == ([Cell(value="b", patients=12, suppressed=False)], False)
    assert suppress({}) == ([], False)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        *[(0, "0-17"), (17, "0-17"), (18, "18-34"), (49, "35-49"), (79, "65-79")],
        *[(80, "80+"), (None, "unknown"), (-1, "unknown")],
    ],
)
def test_age_bands(age: int | None, band: str) -> None:
    assert age_band(age) == band


def test_only_coarse_values_are_derived_and_erased_ones_are_unknown() -> None:
    subject = uuid4()
    details = {
        "name": PersonalData(subject, "Ada Lovelace"),
        "birth_date": PersonalData(subject, date(1990, 6, 1).isoformat()),
        "sex": PersonalData(subject, " Female "),
        "postal_code": PersonalData(subject, "sw1a 1aa"),
        "gender": PersonalData.erased(subject),
    }
    assert bands_of(details) == {
        "birth_year": 1990,
        "sex": "female",
        "gender": None,
        "postal_prefix": "SW1",
    }
    assert bands_of({"postal_code": PersonalData(subject, "1 2")}) == {"postal_prefix": None}
