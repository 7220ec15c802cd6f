"""VideoRoom events are published like the other aggregates': on their own versioned topic,
keyed by the room, back equal after the trip through JSON, and the guest's name withheld."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from domain.video_room import VideoRoom
from domain.video_visit import room_id
from projections.integration import Catalog, IntegrationEvent, message_key
from projections.withholding import PersonalDataWithheldError
from tests.builders import TEN, in_memory_app, patient_registers
from tests.fakes import FixedClock
from tests.video_support import GUEST_NAME, drive_video_visit


def test_every_video_room_event_goes_to_the_video_room_topic_and_comes_back_equal() -> None:
    app = in_memory_app(FixedClock(TEN - timedelta(minutes=5)))
    visit = drive_video_visit(app, TEN, patient_registers(app))
    catalog = Catalog()
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    rooms = [
        (n.id, app.mapper.to_domain_event(n))
        for n in notifications
        if n.originator_id == room_id(visit)
    ]
    seen = set()
    for position, event in rooms:
        message = catalog.encode(event, position)
        assert catalog.topic_for(message.event_type) == "slotwise.video_room.v1"
        assert message.aggregate_type == "VideoRoom"
        assert message_key(message) == str(room_id(visit)).encode()
        wire = msgspec.json.encode(message)
        assert GUEST_NAME.encode() not in wire
        received = msgspec.json.decode(wire, type=IntegrationEvent)
        seen.add(message.event_type)
        if message.personal_data_withheld:
            assert message.event_type == "VideoRoom.GuestInvited"
            try:
                catalog.decode(received)
            except PersonalDataWithheldError:
                continue
            raise AssertionError("a withheld event decoded")
        assert catalog.decode(received) == event
    expected = {
        f"VideoRoom.{name}"
        for name, value in vars(VideoRoom).items()
        if isinstance(value, type) and name not in ("Event", "Created")
    }
    assert seen == expected
