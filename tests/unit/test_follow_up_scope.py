"""Who lists which follow-up requests, and who sees their notes."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.actor import Actor, Role
from domain.errors import ForbiddenError
from projections.follow_ups import FollowUpFilter, FollowUpView, as_seen_by, scoped_follow_ups

NOW = datetime(2030, 1, 7, 9, tzinfo=UTC)


def test_providers_and_patients_are_narrowed_to_their_own_and_staff_are_not() -> None:
    asked = FollowUpFilter(provider_id=uuid4(), patient_id=uuid4())
    doctor, patient = Actor(uuid4(), Role.PROVIDER), Actor(uuid4(), Role.PATIENT)
    assert scoped_follow_ups(doctor, asked).provider_id == doctor.subject
    assert scoped_follow_ups(patient, asked).patient_id == patient.subject
    assert scoped_follow_ups(Actor(uuid4(), Role.STAFF), asked) == asked
    for role in (Role.ANALYST, Role.AUDITOR):
        with pytest.raises(ForbiddenError):
            scoped_follow_ups(Actor(uuid4(), role), asked)


def test_the_notes_are_for_staff_and_the_provider_only() -> None:
    view = FollowUpView(
        id=uuid4(),
        visit_id=uuid4(),
        patient_id=uuid4(),
        provider_id=uuid4(),
        appointment_type="in_person",
        interval_days=7,
        due_from=NOW,
        notes="check the wound",
        status="open",
        appointment_id=None,
        requested_at=NOW,
        version=1,
        updated_at=NOW,
    )
    assert as_seen_by(Actor(view.patient_id, Role.PATIENT), view).notes is None
    assert as_seen_by(Actor(view.provider_id, Role.PROVIDER), view).notes == "check the wound"
