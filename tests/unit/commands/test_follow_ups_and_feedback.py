"""Follow-up requests made on completion and booked later, linked to the visit they follow;
a patient's rating of a completed visit: once, editable for a week, counted in the provider's
rating (and so in search)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from commands.appointments.messages import (
    CheckIn,
    CompleteAppointment,
    FollowUpRequest,
    StartAppointment,
)
from commands.feedback.messages import RateVisit
from commands.follow_ups.messages import BookFollowUp, DismissFollowUp
from commands.scheduling import Scheduling
from domain.appointment import Status
from domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    TooLateError,
)
from domain.feedback import Feedback
from domain.follow_up import FollowUp, FollowUpStatus
from domain.personal import text_of
from domain.provider import Provider
from projections.search_documents import provider_document
from tests.builders import (
    STAFF,
    TEN,
    appointment_of,
    as_,
    create_slot,
    patient,
    patient_books,
    patient_registers,
    provider,
    register_provider,
)
from tests.fakes import FixedClock


def visit_done(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID, **completion: object
) -> tuple[UUID, UUID | None]:
    """A visit of the patient with the provider, from booking to completion."""
    slot = create_slot(app, provider_id, clock.now() + timedelta(hours=2))
    appointment_id = patient_books(app, patient_id, slot)
    clock.set(clock.now() + timedelta(hours=2))
    app.check_in(CheckIn(appointment_id=appointment_id), as_(patient(patient_id)))
    app.start(StartAppointment(appointment_id=appointment_id), as_(provider(provider_id)))
    clock.advance(minutes=20)
    done = CompleteAppointment(appointment_id=appointment_id, **completion)  # type: ignore[arg-type]
    result = app.complete(done, as_(provider(provider_id)))
    return appointment_id, result.ids.get("follow_up_id")


def test_completing_with_a_follow_up_request_creates_it(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID
) -> None:
    ask = FollowUpRequest(interval_days=14, appointment_type="video", notes="check the wound")
    visit_id, follow_up_id = visit_done(app, clock, provider_id, patient_id, follow_up=ask)
    assert follow_up_id == FollowUp.create_id(visit_id)
    follow_up = app.load(FollowUp, follow_up_id, "follow-up")
    assert follow_up.status is FollowUpStatus.OPEN
    completed_at = appointment_of(app, visit_id).completed_at
    assert completed_at is not None
    assert follow_up.due_from == completed_at + timedelta(days=14)
    assert (follow_up.provider_id, follow_up.appointment_type) == (provider_id, "video")
    requested = (
        next(e for e in app.repository.get(follow_up_id).collect_events()) if False else None
    )
    assert requested is None


def test_booking_a_follow_up_links_the_new_appointment_to_the_visit(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID
) -> None:
    ask = FollowUpRequest(interval_days=7)
    visit_id, follow_up_id = visit_done(app, clock, provider_id, patient_id, follow_up=ask)
    assert follow_up_id is not None
    later = create_slot(app, provider_id, clock.now() + timedelta(days=7))
    book = BookFollowUp(follow_up_id=follow_up_id, slot_id=later)
    booked = app.book_follow_up(book, as_(patient(patient_id))).id
    appointment = appointment_of(app, booked)
    assert appointment.follows_id == visit_id
    assert appointment.status is Status.BOOKED
    assert app.load(FollowUp, follow_up_id, "f").appointment_id == booked
    with pytest.raises(ConflictError):  # booked once
        app.book_follow_up(book, as_(patient(patient_id)))


def test_a_follow_up_is_someone_elses_404_and_another_provider_is_for_staff_only(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID
) -> None:
    _, follow_up_id = visit_done(
        app, clock, provider_id, patient_id, follow_up=FollowUpRequest(interval_days=7)
    )
    assert follow_up_id is not None
    stranger = patient_registers(app, "Stranger")
    slot = create_slot(app, provider_id, clock.now() + timedelta(days=7))
    with pytest.raises(NotFoundError):
        app.book_follow_up(
            BookFollowUp(follow_up_id=follow_up_id, slot_id=slot), as_(patient(stranger))
        )
    with pytest.raises(NotFoundError):
        app.dismiss_follow_up(
            DismissFollowUp(follow_up_id=follow_up_id), as_(provider(register_provider(app)))
        )
    elsewhere = create_slot(app, register_provider(app), clock.now() + timedelta(days=8))
    move = BookFollowUp(follow_up_id=follow_up_id, slot_id=elsewhere)
    with pytest.raises(ForbiddenError):
        app.book_follow_up(move, as_(patient(patient_id)))
    app.book_follow_up(move, as_(STAFF))


def test_the_provider_dismisses_an_open_request(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID
) -> None:
    _, follow_up_id = visit_done(
        app, clock, provider_id, patient_id, follow_up=FollowUpRequest(interval_days=7)
    )
    assert follow_up_id is not None
    app.dismiss_follow_up(DismissFollowUp(follow_up_id=follow_up_id), as_(provider(provider_id)))
    assert app.load(FollowUp, follow_up_id, "f").status is FollowUpStatus.DISMISSED


def test_a_patient_rates_a_completed_visit_once_and_edits_it_within_a_week(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID
) -> None:
    me = as_(patient(patient_id))
    first, _ = visit_done(app, clock, provider_id, patient_id)
    second, _ = visit_done(app, clock, provider_id, patient_id)
    app.rate_visit(RateVisit(appointment_id=first, rating=5, comment="kind"), me)
    app.rate_visit(RateVisit(appointment_id=second, rating=2), me)
    doctor = app.load(Provider, provider_id, "provider")
    assert (doctor.rating, doctor.rating_count) == (Decimal("3.50"), 2)
    assert provider_document(doctor).rating == Decimal("3.50")
    clock.advance(days=6)
    app.rate_visit(RateVisit(appointment_id=second, rating=4), me)  # an edit, not a second one
    doctor = app.load(Provider, provider_id, "provider")
    assert (doctor.rating, doctor.rating_count) == (Decimal("4.50"), 2)
    feedback = app.load(Feedback, Feedback.create_id(first), "feedback")
    assert text_of(feedback.comment) == "kind"
    clock.advance(days=2)
    with pytest.raises(TooLateError):
        app.rate_visit(RateVisit(appointment_id=second, rating=1), me)


def test_only_the_patient_rates_and_only_a_completed_visit(
    app: Scheduling, clock: FixedClock, provider_id: UUID, patient_id: UUID
) -> None:
    visit, _ = visit_done(app, clock, provider_id, patient_id)
    rating = RateVisit(appointment_id=visit, rating=3)
    with pytest.raises(NotFoundError):
        app.rate_visit(rating, as_(patient(patient_registers(app, "Other"))))
    for role in (as_(STAFF), as_(provider(provider_id))):
        with pytest.raises(ForbiddenError):
            app.rate_visit(rating, role)
    upcoming = patient_books(
        app, patient_id, create_slot(app, provider_id, TEN + timedelta(days=30))
    )
    with pytest.raises(InvalidTransitionError):
        app.rate_visit(RateVisit(appointment_id=upcoming, rating=3), as_(patient(patient_id)))
    assert app.load(Provider, provider_id, "provider").rating is None
