"""Search documents from aggregate state, the search projection on a fake sink and event store,
and the rules a search query must satisfy, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking

from domain.actor import Actor, Role
from domain.appointment import Appointment
from domain.errors import ValidationError
from domain.patient import Patient
from domain.policies import CheckInWindow
from domain.provider import Provider
from domain.slot import Slot
from domain.timerange import TimeRange
from projections.search import (
    GeoPoint,
    NoteDocument,
    NoteScope,
    ProviderDocument,
    ProviderQuery,
    SlotDocument,
    SlotQuery,
    note_scope,
    rating_band,
)
from projections.search_documents import note_document, provider_document, slot_document
from projections.search_projection import SearchProjection, documents_for, search_projection
from tests.builders import META
from tests.fakes import MemorySearchSink, ReplayLoader

START = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=2)
PROFILE: dict[str, Any] = {
    "name": "Dr Ada Lovelace",
    "time_zone": "Europe/Berlin",
    "specializations": ["Cardiology", "Sports medicine"],
    "bio": "Heart health for runners.",
    "education": "Charité Berlin",
    "languages": ["de", "en"],
    "latitude": 52.52,
    "longitude": 13.405,
    "address": "Unter den Linden 1, Berlin",
    "insurances": ["AOK", "TK"],
    "fee_amount": Decimal("80.00"),
    "fee_currency": "EUR",
    "accepting_new_patients": False,
}


def events(*aggregates: Aggregate) -> list[Any]:
    return [e for a in aggregates for e in a.collect_events()]


def new_slot(provider_id: UUID, capacity: int = 2) -> Slot:
    return Slot.create(
        slot_id=uuid4(),
        provider_id=provider_id,
        time=TimeRange(START, START + timedelta(minutes=30)),
        capacity=capacity,
        overbook_allowance=0,
        appointment_types=["video", "in_person"],
        location="Berlin Mitte",
        room="2.14",
        meta=META,
    )


def new_appointment(slot: Slot, patient_id: UUID | None = None) -> Appointment:
    appointment_id = uuid4()
    slot.take_seat(appointment_id, "video", BEFORE, hold_until=None, may_overbook=False, meta=META)
    return Appointment(
        id=appointment_id,
        patient_id=patient_id or uuid4(),
        provider_id=slot.provider_id,
        slot_id=slot.id,
        start=slot.start,
        end=slot.end,
        appointment_type="video",
        reason="checkup",
        symptoms=[],
        hold_expires_at=None,
        overbooked=False,
        meta=META,
    )


def complete(appointment: Appointment, notes: str) -> None:
    appointment.check_in(START - timedelta(minutes=5), CheckInWindow(), META)
    appointment.begin(START, META)
    appointment.complete(START + timedelta(minutes=20), notes, "private: anxious", {}, False, META)


# --- documents ---------------------------------------------------------------------------------


def test_a_provider_document_carries_the_profile_and_its_version() -> None:
    provider = Provider.register(uuid4(), dict(PROFILE), META)

    document = provider_document(provider)

    assert document == ProviderDocument(
        id=provider.id,
        version=1,
        name="Dr Ada Lovelace",
        specializations=["Cardiology", "Sports medicine"],
        bio="Heart health for runners.",
        education="Charité Berlin",
        languages=["de", "en"],
        location=GeoPoint(lat=52.52, lon=13.405),
        address="Unter den Linden 1, Berlin",
        insurances=["AOK", "TK"],
        fee_amount=Decimal("80.00"),
        fee_currency="EUR",
        rating=None,
        accepting_new_patients=False,
        time_zone="Europe/Berlin",
    )


def test_a_bare_provider_has_no_location_fee_or_rating_and_accepts_new_patients() -> None:
    provider = Provider.register(uuid4(), {"name": "Dr Who", "time_zone": "UTC"}, META)
    provider.update({"bio": "Time travel medicine."}, META)

    document = provider_document(provider)

    assert (document.version, document.bio, document.education) == (2, "Time travel medicine.", "")
    assert (document.location, document.fee_amount, document.fee_currency) == (None, None, None)
    assert (document.rating, rating_band(document.rating)) == (None, "unrated")
    assert document.specializations == document.insurances == document.languages == []
    assert document.accepting_new_patients is True


def test_a_slot_document_counts_the_seats_free_at_the_given_instant() -> None:
    slot = new_slot(uuid4(), capacity=3)
    booked, held = uuid4(), uuid4()
    slot.take_seat(booked, "video", BEFORE, hold_until=None, may_overbook=False, meta=META)
    hold_until = BEFORE + timedelta(minutes=10)
    slot.take_seat(held, "video", BEFORE, hold_until=hold_until, may_overbook=False, meta=META)

    while_held = slot_document(slot, BEFORE)
    after_hold = slot_document(slot, hold_until)

    assert while_held == SlotDocument(
        id=slot.id,
        version=3,
        provider_id=slot.provider_id,
        start=START,
        end=START + timedelta(minutes=30),
        appointment_types=["in_person", "video"],
        location="Berlin Mitte",
        room="2.14",
        status="open",
        capacity=3,
        free_seats=1,
    )
    assert after_hold.free_seats == 2
    slot.block("flood", BEFORE, META)
    assert slot_document(slot, BEFORE).status == "blocked"


def test_notes_are_a_document_only_once_the_visit_is_completed_with_notes() -> None:
    slot = new_slot(uuid4())
    visit = new_appointment(slot)
    assert note_document(visit) is None
    silent = new_appointment(slot)
    complete(silent, "   ")
    assert note_document(silent) is None

    complete(visit, "Mild asthma; inhaler prescribed.")

    assert note_document(visit) == NoteDocument(
        appointment_id=visit.id,
        version=visit.version,
        patient_id=visit.patient_id,
        provider_id=visit.provider_id,
        completed_at=START + timedelta(minutes=20),
        notes="Mild asthma; inhaler prescribed.",
    )


# --- the projection ----------------------------------------------------------------------------


def test_each_event_indexes_its_aggregate_as_it_was_at_that_version() -> None:
    provider = Provider.register(uuid4(), dict(PROFILE), META)
    patient = Patient.register(uuid4(), {"name": "Grace", "time_zone": "UTC"}, START.date(), META)
    slot = new_slot(provider.id)
    stream = events(provider, patient, slot)
    visit = new_appointment(slot, patient.id)
    stream += events(slot, visit)
    complete(visit, "Mild asthma; inhaler prescribed.")
    provider.update({"name": "Dr Ada King"}, META)
    stream += events(visit, provider)
    sink = MemorySearchSink()
    projection = SearchProjection(sink, ReplayLoader(stream))

    for position, event in enumerate(stream, start=1):
        projection.process_event(event, Tracking("Slotwise", position))

    assert sink.positions == list(range(1, len(stream) + 1)), "every event moves the position"
    written = {type(e).__qualname__: docs for e, (docs, _) in zip(stream, sink.writes, strict=True)}
    (registered,) = written["Provider.Registered"]
    (renamed,) = written["Provider.ProfileUpdated"]
    assert isinstance(registered, ProviderDocument)
    assert isinstance(renamed, ProviderDocument)
    assert (registered.name, registered.version) == ("Dr Ada Lovelace", 1)
    assert (renamed.name, renamed.version) == ("Dr Ada King", 2)
    assert written["Patient.Registered"] == []
    (created,) = written["Slot.Created"]
    (taken,) = written["Slot.SeatTaken"]
    assert isinstance(created, SlotDocument)
    assert isinstance(taken, SlotDocument)
    assert (created.free_seats, taken.free_seats, taken.version) == (2, 1, 2)
    assert written["Appointment.Scheduled"] == written["Appointment.Started"] == []
    (notes,) = written["Appointment.Completed"]
    assert isinstance(notes, NoteDocument)
    assert (notes.appointment_id, notes.patient_id) == (visit.id, patient.id)


def test_the_slot_document_counts_seats_as_of_the_event_so_a_rebuild_writes_the_same() -> None:
    slot = new_slot(uuid4(), capacity=1)
    created = events(slot)
    # Event timestamps are the wall clock's: a hold live when its event was recorded.
    hold_until = datetime.now(UTC) + timedelta(minutes=10)
    slot.take_seat(uuid4(), "video", BEFORE, hold_until=hold_until, may_overbook=False, meta=META)
    (taken,) = events(slot)
    loader = ReplayLoader([*created, taken])

    (document,) = documents_for(taken, loader)

    assert isinstance(document, SlotDocument)
    assert document.free_seats == 0
    assert slot_document(slot, hold_until).free_seats == 1, "not as of whenever it is replayed"
    assert loader.loaded == [(slot.id, 2)]


def test_the_runner_gets_a_search_projection_class_it_can_build_from_the_view_alone() -> None:
    loader = ReplayLoader()
    bound = search_projection(loader)
    sink = MemorySearchSink()
    # The runner builds the class from the view alone; its type says SearchProjection, whose own
    # constructor also takes the loader.
    projection = bound(sink)  # type: ignore[call-arg]

    assert bound.name == SearchProjection.name == "search"
    assert isinstance(projection, SearchProjection)
    projection.process_event(object(), Tracking("Slotwise", 7))
    assert projection.view is sink
    assert sink.positions == [7]
    assert loader.loaded == [], "an event of no indexed aggregate loads nothing"


# --- queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (ProviderQuery(sort="distance"), "sort=distance needs a point"),
        (ProviderQuery(radius_km=5), "radius_km needs a point"),
        (ProviderQuery(near=GeoPoint(lat=0, lon=0), radius_km=0), "radius_km must be"),
        (ProviderQuery(near=GeoPoint(lat=0, lon=0), radius_km=20_001), "radius_km must be"),
        (ProviderQuery(free_from=START), "go together"),
        (ProviderQuery(free_from=START, free_to=START), "free_to must be after"),
        (ProviderQuery(limit=0), "limit must be"),
        (ProviderQuery(limit=101), "limit must be"),
        (ProviderQuery(offset=-1), "offset must be"),
        (ProviderQuery(offset=10_001), "offset must be"),
        (ProviderQuery(q="x" * 201), "q must be"),
    ],
)
def test_a_provider_query_that_cannot_be_answered_is_refused(
    query: ProviderQuery, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        query.validate()


def test_an_answerable_provider_query_validates_to_itself() -> None:
    query = ProviderQuery(
        q="heart",
        near=GeoPoint(lat=52.5, lon=13.4),
        radius_km=20_000,
        free_from=START,
        free_to=START + timedelta(days=1),
        sort="distance",
        limit=100,
        offset=10_000,
    )
    assert query.validate() is query


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_to": START}, "'to' must be after 'from'"),
        ({"limit": 0}, "limit must be"),
        ({"offset": -1}, "offset must be"),
    ],
)
def test_a_slot_query_that_cannot_be_answered_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"start_from": START, "start_to": START + timedelta(days=1)}
    with pytest.raises(ValidationError, match=message):
        SlotQuery(**{**values, **changes}).validate()


def test_notes_are_scoped_to_the_patient_or_provider_in_the_token_and_no_one_else() -> None:
    me = uuid4()
    assert note_scope(Actor(me, Role.PATIENT)) == NoteScope(patient_id=me)
    assert note_scope(Actor(me, Role.PROVIDER)) == NoteScope(provider_id=me)
    for role in (Role.STAFF, Role.AUDITOR, Role.ANALYST, Role.SYSTEM):
        assert note_scope(Actor(me, role)) is None
