"""The waitlist's settings: answer-time tiers and limits read from the environment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.waitlist_rules import DEFAULT_TIERS
from infra.settings import Settings, SettingsError


def settings(**env: str) -> Settings:
    return Settings.from_env({"SLOTWISE_MODE": "test", **env})


def test_the_defaults_shrink_the_answer_time_as_the_seat_approaches() -> None:
    timing = settings().waitlist
    assert timing.tiers == DEFAULT_TIERS
    assert (timing.min_lead, timing.cooldown) == (timedelta(minutes=30), timedelta(hours=24))


def test_tiers_and_limits_are_configurable() -> None:
    timing = settings(
        SLOTWISE_WAITLIST_OFFER_TIERS="3d=4h, 0s=20m",
        SLOTWISE_WAITLIST_COOLDOWN_MINUTES="90",
        SLOTWISE_WAITLIST_MIN_LEAD_MINUTES="0",
    ).waitlist
    assert timing.tiers == (
        (timedelta(days=3), timedelta(hours=4)),
        (timedelta(0), timedelta(minutes=20)),
    )
    assert (timing.cooldown, timing.min_lead) == (timedelta(minutes=90), timedelta(0))


@pytest.mark.parametrize(
    "tiers",
    ["2h", "2x=1h", "0s=0s", "0s=15m,1d=1h", ""],
)
def test_a_malformed_tier_list_is_refused_with_its_name(tiers: str) -> None:
    if not tiers:
        assert settings(SLOTWISE_WAITLIST_OFFER_TIERS=tiers).waitlist.tiers == DEFAULT_TIERS
        return
    with pytest.raises(SettingsError, match="SLOTWISE_WAITLIST_OFFER_TIERS"):
        settings(SLOTWISE_WAITLIST_OFFER_TIERS=tiers)
