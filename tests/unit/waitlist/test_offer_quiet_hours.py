"""The offer's answer time counts only while the patient is awake (issue 11, with issue 10's
quiet hours): given quiet hours in the patient's zone, when an offer is made before, inside or
across them (midnight, both DST changes, two zones), then it lapses that much later; and the
offer command reads them from the patient's contact preferences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from commands.notifications.messages import QuietHoursBody, UpdateContactPreferences
from commands.scheduling import Scheduling
from domain.notification import QuietHours
from domain.waitlist import WaitlistEntry
from domain.waitlist_rules import OfferTiming, answer_time, offer_expiry, quiet_hook
from tests.builders import as_patient
from tests.unit.waitlist.conftest import SLOT_AT, joins, offer

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = QuietHours.parse("22:00", "07:00")
PATIENT = uuid4()
FAR = timedelta(days=5)  # a seat this far away gets 2 h to answer


def _local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def expiry(now: datetime, zone: ZoneInfo = BERLIN, quiet: QuietHours = NIGHT) -> datetime:
    timing = OfferTiming(quiet_hours=quiet_hook(quiet, zone))
    return offer_expiry(PATIENT, now + FAR, now, timing)


def test_awake_the_whole_time_nothing_changes() -> None:
    now = _local(BERLIN, 2026, 12, 1, 10, 0)
    assert expiry(now) == now + timedelta(hours=2)


def test_running_into_the_night_pauses_until_morning() -> None:
    # 21:30 with 2 h: 30 min before 22:00, the other 90 min from 07:00 (across midnight).
    now = _local(BERLIN, 2026, 12, 1, 21, 30)
    assert expiry(now) == _local(BERLIN, 2026, 12, 2, 8, 30)


@pytest.mark.parametrize("hour", [22, 23, 0, 3, 6])
def test_made_at_night_the_whole_time_runs_from_morning(hour: int) -> None:
    day = 1 if hour >= 22 else 2
    now = _local(BERLIN, 2026, 12, day, hour, 15)
    assert expiry(now) == _local(BERLIN, 2026, 12, 2, 9, 0)


def test_a_short_quiet_window_inside_the_answer_time_is_added_to_it() -> None:
    lunch = QuietHours.parse("12:00", "12:30")
    now = _local(BERLIN, 2026, 12, 1, 11, 0)
    assert expiry(now, quiet=lunch) == _local(BERLIN, 2026, 12, 1, 13, 30)


def test_the_autumn_night_is_an_hour_longer() -> None:
    # Berlin falls back on 25 Oct 2026: 22:00 CEST to 07:00 CET is ten real hours.
    now = _local(BERLIN, 2026, 10, 24, 21, 0)
    got = expiry(now)
    assert got == _local(BERLIN, 2026, 10, 25, 8, 0)
    assert got - now == timedelta(hours=12)


def test_the_spring_night_is_an_hour_shorter() -> None:
    # Berlin springs forward on 29 Mar 2026: 22:00 CET to 07:00 CEST is eight real hours.
    now = _local(BERLIN, 2026, 3, 28, 21, 0)
    got = expiry(now)
    assert got == _local(BERLIN, 2026, 3, 29, 8, 0)
    assert got - now == timedelta(hours=10)


def test_a_quiet_start_the_clock_skips_is_read_as_the_notifications_read_it() -> None:
    # New York springs forward at 02:00 on 8 Mar 2026: 02:30 does not exist that night, and
    # is read with the offset before the change (03:30 EDT), as `QuietHours.window` does.
    quiet = QuietHours.parse("02:30", "06:00")
    now = _local(NEW_YORK, 2026, 3, 8, 1, 0)  # EST, 06:00 UTC
    got = expiry(now, NEW_YORK, quiet)
    # 1.5 h awake until 03:30 EDT, asleep until 06:00 EDT, then the last 30 min.
    assert got == _local(NEW_YORK, 2026, 3, 8, 6, 30)
    assert got == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)


def test_the_slot_still_closes_the_offer_early() -> None:
    now = _local(BERLIN, 2026, 12, 1, 21, 30)
    start = _local(BERLIN, 2026, 12, 2, 7, 20)  # 9 h 50 away: 30 min to answer
    timing = OfferTiming(quiet_hours=quiet_hook(NIGHT, BERLIN))
    # 30 min runs to 22:00 exactly: no pause needed.
    assert offer_expiry(PATIENT, start, now, timing) == _local(BERLIN, 2026, 12, 1, 22, 0)
    later = now + timedelta(minutes=15)  # 15 min left at 22:00 would run to 07:15: cut at 07:10
    assert offer_expiry(PATIENT, start, later, timing) == start - timedelta(minutes=10)


def test_no_quiet_hours_no_hook() -> None:
    assert quiet_hook(None, BERLIN) is None


def test_the_offer_reads_the_patients_quiet_hours(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    # The test clock's now in the patient's zone (Berlin) is inside quiet hours covering it.
    now = app.clock.now().astimezone(BERLIN)
    start, end = (now - timedelta(hours=1)), (now + timedelta(hours=3))
    quiet = QuietHoursBody(start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
    app.update_contact_preferences(
        UpdateContactPreferences(patient_id=patient_id, quiet_hours=quiet), as_patient(patient_id)
    )
    entry_id = joins(app, patient_id, provider_id)
    offer(app, entry_id, slot_id)
    made = app.load(WaitlistEntry, entry_id, "e").offer
    assert made is not None
    wake = end.replace(second=0, microsecond=0)
    assert made.expires_at == wake + answer_time(SLOT_AT - now, OfferTiming().tiers)
