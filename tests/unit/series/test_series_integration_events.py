"""Series events are published like the other aggregates': on their own versioned topic, keyed
by the series, back equal after the trip through JSON (booked, then split)."""

from __future__ import annotations

from datetime import UTC, timedelta

import msgspec

from commands.series.messages import CancelSeries
from domain.series import Series
from projections.integration import Catalog, IntegrationEvent, message_key
from tests.builders import (
    T0,
    as_patient,
    as_staff,
    create_slot,
    in_memory_app,
    patient_registers,
    register_provider,
)
from tests.fakes import FixedClock
from tests.unit.series.test_series_commands import FIRST, WEEKS, weekly


def test_every_series_event_goes_to_the_series_topic_and_comes_back_equal() -> None:
    app = in_memory_app(FixedClock(T0))
    provider_id = register_provider(app)
    for w in range(WEEKS):
        create_slot(app, provider_id, (FIRST + timedelta(weeks=w)).astimezone(UTC))
    patient_id = patient_registers(app)
    series_id = app.book_series(weekly(provider_id, "all_or_nothing", patient_id), as_staff()).id
    at = (FIRST + timedelta(weeks=3)).astimezone(UTC)
    cancel = CancelSeries(series_id=series_id, scope="following", recurrence_id=at)
    child = app.cancel_series(cancel, as_patient(patient_id)).ids["new_series_id"]
    catalog = Catalog()
    seen: set[str] = set()
    for n in app.recorder.select_notifications(start=1, limit=10000):
        event = app.mapper.to_domain_event(n)
        if not isinstance(event, Series.Event):
            continue
        message = catalog.encode(event, n.id)
        assert catalog.topic_for(message.event_type) == "slotwise.series.v1"
        assert message.aggregate_type == "Series"
        assert message_key(message) == str(event.originator_id).encode()
        received = msgspec.json.decode(msgspec.json.encode(message), type=IntegrationEvent)
        assert catalog.decode(received) == event
        seen.add(f"{message.event_type}:{event.originator_id}")
    assert seen == {
        f"Series.Booked:{series_id}",
        f"Series.Split:{series_id}",
        f"Series.Booked:{child}",
    }
