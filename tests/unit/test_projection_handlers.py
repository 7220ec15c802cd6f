"""Projection handlers keyed by event class: dispatch, events without a handler, and the one
row-projection base both row read models share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.actor import EventMeta
from domain.appointment import Appointment
from domain.patient import Patient
from domain.payment import Account
from domain.saved_report import SavedReport
from domain.slot import Slot
from projections import analytics, scheduling
from projections.changes import Change, Delete, Handlers, RowProjection
from projections.lifecycle import Values, register_lifecycle

pytestmark = pytest.mark.unit

META = EventMeta(
    actor_id=uuid4(), actor_role="staff", correlation_id=uuid4(), causation_id=uuid4(), command="T"
)


def unblocked(event_class: type[Slot.Unblocked] = Slot.Unblocked) -> Slot.Unblocked:
    # eventsourcing makes each event class a dataclass in its metaclass, which mypy cannot see:
    # it knows the base event's fields only, not `meta`.
    return event_class(  # type: ignore[call-arg]
        originator_id=uuid4(), originator_version=2, timestamp=datetime.now(UTC), meta=META
    )


def test_an_event_is_handled_by_the_handler_of_its_class() -> None:
    handlers: Handlers[str] = Handlers(str)
    handlers.on(Slot.Unblocked)(lambda event: f"unblocked {event.originator_version}")
    handlers.on(Slot.Blocked)(lambda event: "blocked")
    assert handlers(unblocked()) == "unblocked 2"


def test_an_event_of_a_subclass_is_handled_by_the_handler_of_the_class_it_derives_from() -> None:
    class Reopened(Slot.Unblocked):
        pass

    handlers: Handlers[str] = Handlers(str)
    handlers.on(Slot.Unblocked)(lambda event: "unblocked")
    assert handlers(unblocked(Reopened)) == "unblocked"


def test_an_event_without_a_handler_gets_a_fresh_default_each_time() -> None:
    handlers: Handlers[list[Change]] = Handlers(list)
    first = handlers(unblocked())
    assert first == []
    first.append(Delete("rm_slots", {"id": uuid4()}))
    assert handlers(unblocked()) == []


ANALYTICS_ONLY = ("Account.", "SavedReport.")


def write_nothing(event: Appointment.Event, /, **values: Any) -> list[Change]:
    return []


def test_lifecycle_extras_for_an_event_outside_the_lifecycle_are_refused() -> None:
    extras: Handlers[Values] = Handlers(dict)
    extras.on(Appointment.Scheduled)(lambda event: {"x": 1})
    with pytest.raises(ValueError, match=r"Appointment\.Scheduled"):
        register_lifecycle(Handlers(list), write_nothing, extras)


def test_the_scheduling_model_handles_every_event_analytics_does_and_the_patients() -> None:
    # issue 14: money and saved reports are the analytics model's alone
    only_analytics = {e for e in analytics.HANDLERS if e.__qualname__.startswith(ANALYTICS_ONLY)}
    assert {Account.Opened, SavedReport.Saved} <= only_analytics
    assert set(analytics.HANDLERS) - only_analytics <= set(scheduling.HANDLERS)
    assert {Patient.Registered, Patient.DetailsUpdated} <= set(scheduling.HANDLERS)


def test_both_row_read_models_are_the_one_row_projection_with_their_own_handlers() -> None:
    for projection, module in (
        (scheduling.SchedulingProjection, scheduling),
        (analytics.AnalyticsProjection, analytics),
    ):
        assert issubclass(projection, RowProjection)
        assert projection.handlers is module.HANDLERS
