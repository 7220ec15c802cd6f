"""As-of views on PostgreSQL through the real API: an appointment and a provider's schedule as
they were at a past record time or log position, rebuilt from the event log (the read model is
never projected past the booking here, so only the log can know the cancellation), labelled
with the position and the checkpoint; staff and auditors only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CancelAppointment
from commands.scheduling import Scheduling
from domain.actor import Role
from infra.audit.wiring import seals
from infra.postgres.database import eventstore_env
from infra.postgres.server import PostgresLocation
from projections.audit.sealing import CheckpointPolicy
from tests.audit_support import api_settings, seal_to_end, serving
from tests.builders import (
    as_patient,
    create_slot,
    patient_books,
    patient_registers,
    register_provider,
)
from tests.conftest import auth, free_port
from tests.databases import database_of_its_own, project_live
from tests.keys import keyed_scheduling


@dataclass(frozen=True)
class Story:
    url: str
    provider: uuid.UUID
    patient: uuid.UUID
    appointment: uuid.UUID
    day: str
    before_booking: int  # the log position just before the booking
    booked_at: datetime  # a record time after the booking, before the cancellation
    cancelled: int  # the position of the cancellation


@pytest.fixture(scope="module")
def story(
    pg_location: PostgresLocation, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    with database_of_its_own(pg_location, "as_of") as db, keyed_scheduling(db) as keyed:
        app: Scheduling = keyed(eventstore_env(db, 2))
        try:
            provider = register_provider(app, zone="UTC")
            start = (datetime.now(UTC) + timedelta(days=3)).replace(
                hour=10, minute=0, second=0, microsecond=0
            )
            slot = create_slot(app, provider, start=start)
            patient = patient_registers(app)
            before = app.head_position()
            appointment = patient_books(app, patient, slot)
            project_live(eventstore_env(db, 2), app.head_position(), keyed)
            booked_at = datetime.now(UTC)
            cancel = CancelAppointment(appointment_id=appointment, reason="")
            cancelled = app.cancel(cancel, as_patient(patient)).position
            with ConnectionPool(db.conninfo, min_size=1, max_size=2) as pool:
                seal_to_end(seals(api_settings(db, tmp_path_factory.mktemp("s")), app, pool), EVERY)
            settings = api_settings(db, tmp_path_factory.mktemp("state"))
            with serving(settings, free_port()) as url:
                yield Story(
                    url,
                    provider,
                    patient,
                    appointment,
                    start.date().isoformat(),
                    before,
                    booked_at,
                    cancelled,
                )
        finally:
            app.close()


EVERY = CheckpointPolicy(every_events=4, every_seconds=0)


def get(story: Story, path: str, role: Role = Role.STAFF, **params: Any) -> httpx.Response:
    return httpx.get(f"{story.url}{path}", params=params, headers=auth(role), timeout=30)


def test_an_appointment_as_it_was_before_its_cancellation(story: Story) -> None:
    path = f"/v1/appointments/{story.appointment}"
    now = get(story, path)
    assert now.json()["status"] == "booked"  # the read model stopped before the cancellation
    then = get(story, path, as_of=story.booked_at.isoformat())
    assert then.status_code == 200, then.text
    assert then.json()["status"] == "booked"
    position = int(then.headers["Slotwise-As-Of-Position"])
    assert story.before_booking < position < story.cancelled
    assert int(then.headers["Slotwise-As-Of-Checkpoint"]) >= 1
    later = get(story, path, as_of_position=story.cancelled)
    assert later.json()["status"] == "cancelled"
    assert later.headers["Slotwise-As-Of-Position"] == str(story.cancelled)
    before = get(story, path, role=Role.AUDITOR, as_of_position=story.before_booking)
    assert before.status_code == 404


def test_a_schedule_as_it_was_at_each_point(story: Story) -> None:
    path = f"/v1/providers/{story.provider}/schedule"
    booked = get(story, path, day=story.day, as_of=story.booked_at.isoformat()).json()
    assert [a["status"] for a in booked["appointments"]] == ["booked"]
    assert booked["summary"]["booked"] == 1
    empty = get(story, path, role=Role.AUDITOR, day=story.day, as_of_position=story.before_booking)
    assert empty.json()["appointments"] == []
    assert empty.json()["summary"]["free"] == 1
    freed = get(story, path, day=story.day, as_of_position=story.cancelled).json()
    assert [a["status"] for a in freed["appointments"]] == ["cancelled"]
    assert freed["summary"]["free"] == 1


def test_as_of_is_for_staff_and_auditors_only(story: Story) -> None:
    own = f"/v1/appointments/{story.appointment}"
    headers = auth(Role.PATIENT, story.patient)
    refused = httpx.get(f"{story.url}{own}", params={"as_of_position": 1}, headers=headers)
    assert refused.status_code == 403
    both = get(story, own, as_of_position=1, as_of=story.booked_at.isoformat())
    assert both.status_code == 422


def test_a_patients_agenda_as_it_was(story: Story) -> None:
    mine = str(story.patient)
    then = get(story, "/v1/appointments", patient_id=mine, as_of=story.booked_at.isoformat())
    assert then.status_code == 200, then.text
    assert [(a["id"], a["status"]) for a in then.json()["items"]] == [
        (str(story.appointment), "booked")
    ]
    assert "Slotwise-As-Of-Position" in then.headers
    before = get(story, "/v1/appointments", patient_id=mine, as_of_position=story.before_booking)
    assert before.json()["items"] == []
    after = get(
        story,
        "/v1/appointments",
        patient_id=mine,
        status="cancelled",
        as_of_position=story.cancelled,
    )
    assert [a["status"] for a in after.json()["items"]] == ["cancelled"]
    anyone = get(story, "/v1/appointments", as_of_position=story.cancelled)
    assert anyone.status_code == 422
