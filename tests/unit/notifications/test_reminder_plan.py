"""The reminder plan, given an appointment's state, when planned at a time, then these
reminders: book, reschedule, cancel, hold and its expiry, settings per type and channel,
quiet hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from domain.notification import Channel, QuietHours, SkipReason
from domain.reminder import (
    AppointmentState,
    Audience,
    PlannedReminder,
    ReminderSettings,
    desired_reminders,
)
from projections.notifications.plan import notices

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
BOOKED = AppointmentState(uuid4(), uuid4(), "in_person", START, "booked", 1)
SMS = Audience((Channel.SMS,), None, BERLIN)
ALL = Audience((Channel.SMS, Channel.EMAIL, Channel.IN_APP), None, BERLIN)
WEEK_BEFORE = START - timedelta(days=7)
DEFAULTS = ReminderSettings(check_in_open=None)


def plan(
    state: AppointmentState = BOOKED,
    audience: Audience = SMS,
    now: datetime = WEEK_BEFORE,
    settings: ReminderSettings = DEFAULTS,
) -> list[PlannedReminder]:
    return desired_reminders(state, audience, now, settings)


def dues(reminders: list[PlannedReminder]) -> list[tuple[str, datetime]]:
    return [(r.kind, r.due_at) for r in reminders]


def test_booking_a_week_ahead_plans_24h_2h_and_30m() -> None:
    assert dues(plan()) == [
        ("reminder_1440m", START - timedelta(hours=24)),
        ("reminder_120m", START - timedelta(hours=2)),
        ("reminder_30m", START - timedelta(minutes=30)),
    ]


def test_reminders_already_past_at_booking_are_skipped() -> None:
    assert dues(plan(now=START - timedelta(hours=1))) == [
        ("reminder_30m", START - timedelta(minutes=30))
    ]
    assert plan(now=START - timedelta(minutes=10)) == []


def test_every_allowed_channel_gets_its_own_reminders() -> None:
    channels = {r.channel for r in plan(audience=ALL)}
    assert channels == {Channel.SMS, Channel.EMAIL, Channel.IN_APP}
    assert len({r.key for r in plan(audience=ALL)}) == 9


def test_a_reschedule_gives_new_keys_so_the_old_reminders_are_no_longer_desired() -> None:
    before = {r.key for r in plan()}
    moved = replace(BOOKED, start=START + timedelta(days=1), version=2)
    after = plan(moved)
    assert before.isdisjoint({r.key for r in after})
    assert dues(after)[0] == ("reminder_1440m", START)


def test_cancelled_held_and_expired_appointments_want_no_reminders() -> None:
    for status in ("cancelled", "held", "no_show", "completed"):
        assert plan(replace(BOOKED, status=status)) == []


def test_a_confirmed_appointment_keeps_its_reminders() -> None:
    assert {r.key for r in plan(replace(BOOKED, status="confirmed", version=2))} == {
        r.key for r in plan()
    }


def test_offsets_per_appointment_type_and_channel() -> None:
    settings = ReminderSettings(
        check_in_open=None,
        by_type={"video": (timedelta(minutes=15),)},
        by_type_channel={("video", "email"): (timedelta(hours=48),)},
    )
    video = replace(BOOKED, appointment_type="video")
    planned = plan(video, Audience((Channel.SMS, Channel.EMAIL), None, BERLIN), settings=settings)
    assert {(r.channel, r.kind) for r in planned} == {
        (Channel.SMS, "reminder_15m"),
        (Channel.EMAIL, "reminder_2880m"),
    }
    assert dues(plan(settings=settings))[0][0] == "reminder_1440m"  # other types: defaults


def test_quiet_hours_defer_the_sms_but_not_the_in_app_copy() -> None:
    # 10:00 Berlin start, quiet 08:00-09:45: the 2 h reminder (08:00) moves to 09:45
    quiet = QuietHours.parse("08:00", "09:45")
    audience = Audience((Channel.SMS, Channel.IN_APP), quiet, BERLIN)
    by_channel = {(r.channel, r.kind): r.due_at for r in plan(audience=audience)}
    assert by_channel[(Channel.SMS, "reminder_120m")] == START - timedelta(minutes=15)
    assert by_channel[(Channel.IN_APP, "reminder_120m")] == START - timedelta(hours=2)


def test_a_deferral_past_the_start_moves_before_the_window() -> None:
    # quiet 07:00-10:30 covers the start: the 2 h and 30 min reminders leave at 06:59
    quiet = QuietHours.parse("07:00", "10:30")
    planned = {r.kind: r for r in plan(audience=Audience((Channel.SMS,), quiet, BERLIN))}
    before_window = datetime(2026, 11, 26, 5, 59, tzinfo=UTC)
    assert planned["reminder_120m"].due_at == before_window
    assert planned["reminder_30m"].due_at == before_window
    assert planned["reminder_30m"].skip is None


def test_no_time_left_is_recorded_as_quiet_hours_exhausted() -> None:
    quiet = QuietHours.parse("07:00", "10:30")
    now = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)  # 07:30 Berlin: inside the window already
    planned = plan(audience=Audience((Channel.SMS,), quiet, BERLIN), now=now)
    assert {(r.kind, r.skip) for r in planned} == {
        ("reminder_120m", SkipReason.QUIET_HOURS_EXHAUSTED),
        ("reminder_30m", SkipReason.QUIET_HOURS_EXHAUSTED),
    }


def test_a_confirmation_is_one_notice_per_channel_keyed_by_its_event() -> None:
    event_id = uuid4()
    found = notices(event_id, "confirmation", BOOKED, ALL, WEEK_BEFORE)
    assert sorted(n.channel.value for n in found) == ["email", "in_app", "sms"]
    assert {n.key for n in found} == {
        f"{event_id}:confirmation:{c}" for c in ("sms", "email", "in_app")
    }
    assert {n.deadline for n in found} == {START}


def test_check_in_open_is_planned_when_the_window_opens() -> None:
    planned = plan(settings=ReminderSettings())
    opened = [r for r in planned if r.kind == "check_in_open"]
    assert [(r.due_at, r.category) for r in opened] == [
        (START - timedelta(minutes=30), "appointments")
    ]
