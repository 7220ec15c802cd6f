from __future__ import annotations

import math
from uuid import uuid4

import pytest

from domain.personal import ERASED, PersonalData, personal, text_of

SUBJECT = uuid4()


def test_a_personal_value_never_shows_in_repr_or_str() -> None:
    value = PersonalData(SUBJECT, "Grace Hopper")
    for shown in (repr(value), str(value), f"{value}", repr({"name": value})):
        assert "Grace" not in shown
        assert str(SUBJECT) in shown


def test_an_erased_value_reads_as_the_marker_and_keeps_its_subject() -> None:
    erased = PersonalData.erased(SUBJECT)
    assert erased.is_erased
    assert erased.subject == SUBJECT
    assert erased.value == ERASED
    assert erased.text == ERASED
    assert erased != PersonalData(SUBJECT, ERASED)  # a patient may type the marker themselves
    assert "erased" in repr(erased)


def test_only_the_marker_may_be_marked_erased() -> None:
    with pytest.raises(ValueError):
        PersonalData(SUBJECT, "Grace", is_erased=True)


def test_values_are_json_able_text_lists_and_mappings() -> None:
    symptoms = PersonalData(SUBJECT, ["cough", "fever"])
    vitals = PersonalData(SUBJECT, {"pulse": 72, "temperature": 37.2, "notes": None})
    assert symptoms.value == ["cough", "fever"]
    assert hash(symptoms) == hash(PersonalData(SUBJECT, ["cough", "fever"]))
    assert vitals == PersonalData(SUBJECT, {"pulse": 72, "temperature": 37.2, "notes": None})
    with pytest.raises(TypeError):
        _ = symptoms.text


@pytest.mark.parametrize("value", [{1, 2}, b"raw", {1: "a"}, [object()], ("tuple",)])
def test_values_that_are_not_json_are_refused(value: object) -> None:
    with pytest.raises(TypeError):
        PersonalData(SUBJECT, value)  # type: ignore[arg-type]


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        PersonalData(SUBJECT, {"pulse": math.nan})


def test_the_subject_is_a_uuid() -> None:
    with pytest.raises(TypeError):
        PersonalData(str(SUBJECT), "x")  # type: ignore[arg-type]


def test_personal_wraps_plain_values_and_keeps_wrapped_ones() -> None:
    wrapped = PersonalData(SUBJECT, "+4930123456")
    assert personal(SUBJECT, "+4930123456") == wrapped
    assert personal(SUBJECT, wrapped) is wrapped
    with pytest.raises(ValueError):
        personal(uuid4(), wrapped)


def test_text_of_reads_old_plain_strings_new_values_and_tombstones() -> None:
    assert text_of(None) is None
    assert text_of("plain, from before") == "plain, from before"
    assert text_of(PersonalData(SUBJECT, "Grace")) == "Grace"
    assert text_of(PersonalData.erased(SUBJECT)) == ERASED
