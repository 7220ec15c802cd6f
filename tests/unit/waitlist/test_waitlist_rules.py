"""The waitlist's pure rules: which seat suits an entry, the ranking, and the offer's expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import ValidationError
from domain.waitlist_rules import (
    Area,
    OfferTiming,
    Seat,
    Want,
    Window,
    offer_expiry,
    rank_key,
    unsuitable,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday; 10:00 in Berlin
PROVIDER = uuid4()
SEAT = Seat(
    slot_id=uuid4(),
    provider_id=PROVIDER,
    specializations=("cardiology",),
    start=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),  # Thursday 10:00 Berlin
    end=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
    appointment_types=("in_person", "video"),
    provider_latitude=52.52,
    provider_longitude=13.405,
)
WANT = Want(
    provider_id=PROVIDER,
    specialty=None,
    appointment_type="in_person",
    time_zone="Europe/Berlin",
    earliest=date(2026, 12, 1),
    deadline=None,
)
LEAD = timedelta(minutes=30)


def with_(**changes: object) -> Want:
    values = {**WANT.__dict__, **changes}
    return Want(**values)


@pytest.mark.parametrize(
    ("want", "why"),
    [
        (WANT, None),
        (with_(provider_id=uuid4()), "provider"),
        (with_(provider_id=None, specialty="cardiology"), None),
        (with_(provider_id=None, specialty="dermatology"), "specialty"),
        (with_(appointment_type="phone"), "appointment_type"),
        (with_(earliest=date(2026, 12, 4)), "before_earliest"),
        (with_(deadline=date(2026, 12, 2)), "after_deadline"),
        (with_(deadline=date(2026, 12, 3)), None),  # the deadline day itself is in
        (with_(before=SEAT.start), "not_earlier"),
        (with_(before=SEAT.start + timedelta(days=1)), None),
        (with_(windows=(Window(time(10), time(12), (4,)),)), None),  # Thursday 10-12 Berlin
        (with_(windows=(Window(time(10), time(12), (1, 2)),)), "outside_windows"),
        (with_(windows=(Window(time(9), time(10)),)), "outside_windows"),  # UTC time would fit
        (with_(area=Area(52.5, 13.4, 5)), None),
        (with_(area=Area(48.14, 11.58, 50)), "outside_area"),  # Munich
    ],
)
def test_a_seat_suits_an_entry_only_when_every_preference_holds(
    want: Want, why: str | None
) -> None:
    assert unsuitable(want, SEAT, NOW, LEAD) == why


def test_a_seat_starting_within_the_minimum_lead_is_not_offered() -> None:
    assert unsuitable(WANT, SEAT, SEAT.start - timedelta(minutes=29), LEAD) == "too_soon"


def test_preferred_windows_follow_the_patients_zone_across_dst() -> None:
    summer = Seat(
        **{
            **SEAT.__dict__,
            "start": datetime(2026, 7, 2, 8, 0, tzinfo=UTC),
            "end": datetime(2026, 7, 2, 8, 30, tzinfo=UTC),
        }
    )
    want = with_(windows=(Window(time(10), time(11)),), earliest=date(2026, 1, 1))
    assert unsuitable(want, summer, summer.start - timedelta(days=3), LEAD) is None  # 10:00 CEST
    assert unsuitable(want, SEAT, NOW, LEAD) is None  # 10:00 CET


def test_an_entry_names_a_provider_or_a_specialty_not_both_nor_neither() -> None:
    with pytest.raises(ValidationError):
        with_(specialty="cardiology")
    with pytest.raises(ValidationError):
        with_(provider_id=None)
    with pytest.raises(ValidationError):
        Window(time(12), time(10))
    with pytest.raises(ValidationError):
        Area(0, 0, 0)


def test_ranking_is_tier_then_joined_time_then_id() -> None:
    a, b = UUID(int=1), UUID(int=2)
    entries = [
        (3, NOW, b),
        (3, NOW, a),
        (1, NOW + timedelta(days=3), b),
        (3, NOW - timedelta(seconds=1), b),
    ]
    ranked = sorted(entries, key=lambda e: rank_key(*e))
    assert ranked == [
        (1, NOW + timedelta(days=3), b),
        (3, NOW - timedelta(seconds=1), b),
        (3, NOW, a),
        (3, NOW, b),
    ]


@pytest.mark.parametrize(
    ("lead", "answer"),
    [
        (timedelta(days=5), timedelta(hours=2)),
        (timedelta(days=1, hours=3), timedelta(hours=1)),
        (timedelta(hours=8), timedelta(minutes=30)),
        (timedelta(hours=2), timedelta(minutes=15)),
    ],
)
def test_the_time_to_answer_shrinks_as_the_slot_approaches(
    lead: timedelta, answer: timedelta
) -> None:
    assert offer_expiry(uuid4(), NOW + lead, NOW, OfferTiming()) == NOW + answer


def test_an_offer_closes_before_the_slot_starts() -> None:
    start = NOW + timedelta(minutes=20)
    assert offer_expiry(uuid4(), start, NOW, OfferTiming()) == start - timedelta(minutes=10)
