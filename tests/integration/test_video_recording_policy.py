"""The recording policy on PostgreSQL: a tracked consumer of the recording events makes the
provider (loopback) record the room exactly while the product says so, never inside the
request; a provider failure stops it at that event (nothing skipped, its position kept) until
it succeeds; a replayed start of a recording stopped since does not start it again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner

from commands.context import CommandContext
from commands.ports import RoomSpec
from commands.scheduling import Scheduling
from commands.telehealth.messages import (
    OpenVideoRoom,
    RecordRecordingConsent,
    StartRecording,
    StopRecording,
)
from domain.actor import Actor, Role
from domain.errors import ConflictError
from domain.video_room import VideoRoom
from domain.video_visit import room_name
from infra.postgres.database import Database
from infra.postgres.tracking import AnnouncedTracking
from infra.video.loopback import LoopbackRooms
from tests.builders import (
    TEN,
    as_,
    as_patient,
    book,
    create_slot,
    patient_registers,
    provider,
    register_provider,
)
from workers.video_recording import recording_policy

SYSTEM = CommandContext(Actor(uuid.UUID(int=9), Role.SYSTEM))
SPEC = RoomSpec("", timedelta(minutes=20), timedelta(minutes=2), 4)


def tracked(database: Database) -> int:
    with psycopg.connect(database.conninfo) as conn:
        row = conn.execute(
            "SELECT notification_id FROM video_recording_tracking "
            "WHERE application_name = 'Slotwise'"
        ).fetchone()
    return int(row[0]) if row else 0


class Visit:
    def __init__(self, app: Scheduling, rooms: LoopbackRooms) -> None:
        self.app = app
        self.provider_id = register_provider(app)
        self.patient_id = patient_registers(app)
        slot = create_slot(app, self.provider_id, TEN, appointment_types=["video"])
        self.id = book(app, slot, self.patient_id, appointment_type="video").id
        self.name = room_name(self.id)
        rooms.open(RoomSpec(self.name, SPEC.empty_timeout, SPEC.departure_timeout, 4))
        app.open_video_room(OpenVideoRoom(appointment_id=self.id, provider="loopback"), SYSTEM)
        self.doctor = as_(provider(self.provider_id))

    def consent(self) -> None:
        consent = RecordRecordingConsent(appointment_id=self.id)
        self.app.record_recording_consent(consent, as_patient(self.patient_id))

    def start(self) -> None:
        self.app.start_recording(StartRecording(appointment_id=self.id), self.doctor)

    def stop(self) -> None:
        self.app.stop_recording(StopRecording(appointment_id=self.id), self.doctor)


@pytest.fixture
def rooms() -> LoopbackRooms:
    return LoopbackRooms()


def running(
    app: Scheduling, rooms: LoopbackRooms, store_env: dict[str, str], keyed: type[Scheduling]
) -> ProjectionRunner[Any, Any]:
    policy = recording_policy(rooms, lambda rid: app.load_or_none(VideoRoom, rid))
    return ProjectionRunner(
        application_class=keyed, projection_class=policy, view_class=AnnouncedTracking,
        env=store_env,
    )  # fmt: skip


@pytest.fixture
def start_runner(
    app: Scheduling,
    rooms: LoopbackRooms,
    store_env: dict[str, str],
    scheduling_class: type[Scheduling],
) -> Iterator[Any]:
    started: list[ProjectionRunner[Any, Any]] = []

    def start() -> ProjectionRunner[Any, Any]:
        runner = running(app, rooms, store_env, scheduling_class).__enter__()
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.__exit__(None, None, None)


def test_the_provider_records_only_between_the_start_and_the_stop_after_consent(
    app: Scheduling, rooms: LoopbackRooms, start_runner: Any
) -> None:
    visit = Visit(app, rooms)
    runner = start_runner()
    with pytest.raises(ConflictError):
        visit.start()  # no consent: refused, nothing for the policy to do
    visit.consent()
    runner.wait(app.head_position(), timeout=10)
    assert ("start_recording", visit.name) not in rooms.calls

    visit.start()
    assert ("start_recording", visit.name) not in rooms.calls  # not inside the request
    runner.wait(app.head_position(), timeout=10)
    assert visit.name in rooms.recording

    visit.stop()
    runner.wait(app.head_position(), timeout=10)
    assert visit.name not in rooms.recording
    mine = [kind for kind, name in rooms.calls if name == visit.name]
    assert mine == ["open", "start_recording", "stop_recording"]


def test_a_provider_failure_keeps_the_position_until_the_provider_records(
    app: Scheduling, rooms: LoopbackRooms, start_runner: Any, database: Database
) -> None:
    visit = Visit(app, rooms)
    visit.consent()
    rooms.close(visit.name)  # the provider lost the room: recording it fails
    before = app.head_position()
    visit.start()
    runner = start_runner()
    with pytest.raises(Exception, match="no open room"):
        runner.wait(app.head_position(), timeout=10)
    assert tracked(database) == before  # every event before the start, and stopped there
    assert visit.name not in rooms.recording

    rooms.open(RoomSpec(visit.name, SPEC.empty_timeout, SPEC.departure_timeout, 4))
    start_runner().wait(app.head_position(), timeout=10)  # the worker's restart
    assert visit.name in rooms.recording
    assert tracked(database) == app.head_position()


def test_a_replayed_start_of_a_recording_stopped_since_does_not_start_it(
    app: Scheduling, rooms: LoopbackRooms, start_runner: Any, database: Database
) -> None:
    before = app.head_position()
    visit = Visit(app, rooms)
    visit.consent()
    visit.start()
    visit.stop()
    with psycopg.connect(database.conninfo) as conn:  # as if it had stopped before the visit
        conn.execute(
            "INSERT INTO video_recording_tracking VALUES ('Slotwise', %s) ON CONFLICT "
            "(application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id",
            (before,),
        )
    start_runner().wait(app.head_position(), timeout=10)
    mine = [kind for kind, name in rooms.calls if name == visit.name]
    assert "start_recording" not in mine
    assert visit.name not in rooms.recording
