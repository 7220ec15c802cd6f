"""The room policy's decision (given a plan, when it is `now`, then this action) and the plans
the video projection keeps from the Appointment's events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.appointment import Appointment
from domain.policies import CancellationPolicy
from domain.video_visit import VideoPolicy
from projections.changes import Update, Upsert
from projections.video import PLANS, changes_for
from projections.video_queries import RoomPlan
from tests.builders import META
from workers.video_policy import Action, next_action

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
POLICY = VideoPolicy(lead=timedelta(minutes=10), grace=timedelta(minutes=15))
PLAN = RoomPlan(uuid4(), START, END, "open", None, False, None, None)
OPEN = replace(PLAN, room_open=True, room_start_at=START, room_end_at=END)
LATER = timedelta(days=1)


@pytest.mark.parametrize(
    ("plan", "now", "action"),
    [
        (PLAN, START - timedelta(minutes=11), None),
        (PLAN, START - timedelta(minutes=10), Action("open")),
        (PLAN, START + timedelta(minutes=20), Action("open")),  # booked inside the lead
        (PLAN, END + timedelta(minutes=15), None),  # over: never opened late
        (replace(PLAN, wanted="held"), START, None),
        (OPEN, START, None),  # open already: opening twice is harmless, but not needed
        (OPEN, END + timedelta(minutes=15), Action("close", "ended")),
        (
            replace(OPEN, wanted="closed", close_reason="cancelled"),
            START,
            Action("close", "cancelled"),
        ),
        (
            replace(OPEN, wanted="closed", close_reason="completed"),
            START,
            Action("close", "completed"),
        ),
        (replace(OPEN, wanted="closed", close_reason="no_show"), START, Action("close", "no_show")),
        (replace(PLAN, wanted="closed", close_reason="cancelled"), START, None),  # never opened
        (
            replace(OPEN, start_at=START + LATER, end_at=END + LATER),
            START,
            Action("close", "moved"),
        ),
        (replace(OPEN, start_at=START + timedelta(minutes=5)), START, Action("move")),
        (
            replace(PLAN, start_at=START + LATER, end_at=END + LATER),
            START + LATER - timedelta(minutes=9),
            Action("open"),
        ),
    ],
)
def test_the_policy_acts_on_what_the_visit_needs_now(
    plan: RoomPlan, now: datetime, action: Action | None
) -> None:
    assert next_action(plan, now, POLICY) == action


def _appointment(kind: str, hold: datetime | None = None) -> Appointment:
    return Appointment.schedule(
        appointment_id=uuid4(),
        patient_id=uuid4(),
        provider_id=uuid4(),
        slot_id=uuid4(),
        start=START,
        end=END,
        appointment_type=kind,
        reason="",
        symptoms=[],
        hold_expires_at=hold,
        overbooked=False,
        meta=META,
    )


def _scheduled(kind: str, hold: datetime | None = None) -> Appointment.Scheduled:
    [event] = _appointment(kind, hold).collect_events()
    assert isinstance(event, Appointment.Scheduled)
    return event


def test_only_video_visits_get_a_plan_and_a_hold_waits() -> None:
    assert changes_for(_scheduled("in_person")) == []
    assert changes_for(_scheduled("phone")) == []
    [booked] = changes_for(_scheduled("video"))
    assert isinstance(booked, Upsert)
    assert (booked.table, booked.values["wanted"]) == (PLANS, "open")
    [held] = changes_for(_scheduled("video", hold=START - timedelta(days=1)))
    assert isinstance(held, Upsert)
    assert held.values["wanted"] == "held"


def test_the_end_of_a_visit_closes_its_plan_with_the_reason() -> None:
    appointment = _appointment("video")
    appointment.collect_events()
    appointment.cancel(START - LATER, "", CancellationPolicy(), None, None, META)
    [cancelled] = appointment.collect_events()
    [change] = changes_for(cancelled)
    assert isinstance(change, Update)
    assert (change.table, change.values["wanted"], change.values["close_reason"]) == (
        PLANS,
        "closed",
        "cancelled",
    )
