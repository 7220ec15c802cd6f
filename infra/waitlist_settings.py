"""The waitlist's settings (issue 11): how long a patient has to answer an offer, by how far
away the seat is, and the offer policy's other limits. Read once from the environment:

- `SLOTWISE_WAITLIST_OFFER_TIERS`: comma-separated `LEAD=ANSWER` pairs, each a number with a
  unit (s, m, h, d), e.g. the default `2d=2h,1d=1h,6h=30m,0s=15m`: a seat at least LEAD away
  is held for ANSWER; the first pair that fits wins, so list them from the farthest;
- `SLOTWISE_WAITLIST_MIN_LEAD_MINUTES` (30): no offer for a seat starting sooner;
- `SLOTWISE_WAITLIST_COOLDOWN_MINUTES` (1440): after a decline, before the next offer;
- `SLOTWISE_WAITLIST_CLOSE_BEFORE_START_MINUTES` (10): an offer always closes this long before
  the seat's start."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from domain.waitlist_rules import DEFAULT_TIERS, OfferTiming

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
TIERS = "SLOTWISE_WAITLIST_OFFER_TIERS"


class WaitlistSettingsError(ValueError):
    """A waitlist setting is malformed; the message names it."""


def duration(text: str, name: str) -> timedelta:
    number, unit = text.strip()[:-1], text.strip()[-1:]
    if unit not in UNITS or not number.isdigit():
        raise WaitlistSettingsError(f"{name}: {text!r} is not a duration such as 15m or 2h")
    return timedelta(**{UNITS[unit]: int(number)})


def offer_tiers(raw: str) -> tuple[tuple[timedelta, timedelta], ...]:
    tiers = []
    for pair in raw.split(","):
        lead, sep, answer = pair.partition("=")
        if not sep:
            raise WaitlistSettingsError(f"{TIERS}: {pair!r} is not LEAD=ANSWER")
        tiers.append((duration(lead, TIERS), duration(answer, TIERS)))
    if not tiers or any(answer <= timedelta(0) for _, answer in tiers):
        raise WaitlistSettingsError(f"{TIERS}: every answer time must be positive")
    if [lead for lead, _ in tiers] != sorted((lead for lead, _ in tiers), reverse=True):
        raise WaitlistSettingsError(f"{TIERS}: list the pairs from the farthest lead")
    return tuple(tiers)


def _minutes(env: Mapping[str, str], name: str, default: int) -> timedelta:
    raw = env.get(name, str(default))
    if not raw.isdigit():
        raise WaitlistSettingsError(f"{name} must be a whole number of minutes, not {raw!r}")
    return timedelta(minutes=int(raw))


def offer_timing(env: Mapping[str, str]) -> OfferTiming:
    raw = env.get(TIERS)
    return OfferTiming(
        tiers=offer_tiers(raw) if raw else DEFAULT_TIERS,
        min_lead=_minutes(env, "SLOTWISE_WAITLIST_MIN_LEAD_MINUTES", 30),
        cooldown=_minutes(env, "SLOTWISE_WAITLIST_COOLDOWN_MINUTES", 24 * 60),
        close_before_start=_minutes(env, "SLOTWISE_WAITLIST_CLOSE_BEFORE_START_MINUTES", 10),
    )
