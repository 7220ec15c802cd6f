"""The offer policy on PostgreSQL: the waitlist projection (and the scheduling one, for free
seats) follow the log through eventsourcing's ProjectionRunner, and OfferPolicy acts on their
rows through the real application. Given entries, when seats free up, then offers go in rank
order under a hold, answers move the seat on, and no seat is double-booked or left held."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow
from commands.waitlist.messages import AcceptWaitlistOffer, DeclineWaitlistOffer, JoinWaitlist
from domain.appointment import Appointment, Status
from domain.errors import DomainError, HoldExpiredError
from domain.waitlist import EntryStatus, WaitlistEntry
from infra.postgres.read_models.waitlist_work import PostgresWaitlistWork
from tests.builders import T0, as_patient, as_staff, book, patient_registers
from tests.waitlist_world import DAYS, World, booked_slot, pool, race, runners, world
from workers.waitlist_policy import OfferPolicy

__all__ = ["pool", "runners", "world"]
from datetime import timedelta


def two_waiting_then_a_cancellation(
    world: World,
) -> tuple[UUID, tuple[UUID, UUID], tuple[UUID, UUID]]:
    """Two patients wait (each with their entry, first one first), then the seat frees."""
    slot_id, booked = booked_slot(world)
    first, second = patient_registers(world.app), patient_registers(world.app)
    a, b = world.joins(first), world.joins(second)
    world.cancel(booked)
    world.tick()
    return slot_id, (first, a), (second, b)


def test_a_cancelled_seat_goes_to_the_first_ranked_entry_and_accept_books_it(
    world: World,
) -> None:
    slot_id, booked = booked_slot(world)
    first, second, urgent = (patient_registers(world.app) for _ in range(3))
    early = world.joins(first)
    world.clock.advance(minutes=1)
    world.joins(second)
    world.clock.advance(minutes=1)
    staff_join = JoinWaitlist(provider_id=world.provider_id, patient_id=urgent, tier=1)
    top = world.app.join_waitlist(staff_join, as_staff()).id
    world.tick()
    assert world.entry(top).status is EntryStatus.WAITING  # nothing freed yet
    world.cancel(booked)
    world.tick()
    assert world.entry(top).status is EntryStatus.OFFERED  # tier before joined time
    assert world.entry(early).status is EntryStatus.WAITING
    appointment = world.accept(top, urgent)
    assert world.live_seats(slot_id) == [appointment]
    assert world.app.load(Appointment, appointment, "a").status is Status.BOOKED
    world.tick()
    assert world.entry(early).status is EntryStatus.WAITING  # the seat is taken


def test_the_offer_records_its_rank_inputs(world: World, pool: ConnectionPool[Any]) -> None:
    _, booked = booked_slot(world)
    patient = patient_registers(world.app)
    entry_id = world.joins(patient)
    world.cancel(booked)
    world.tick()
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT rank, status FROM rm_waitlist_offers WHERE entry_id = %s", (entry_id,)
        ).fetchone()
    assert row is not None
    rank, status = row
    assert status == "open"
    assert (rank["tier"], rank["place"], rank["entry_id"]) == (3, 1, str(entry_id))
    assert rank["freed_by"] == "released"
    assert rank["order"] == "tier, joined_at, entry_id"


def test_a_decline_offers_the_seat_to_the_next_entry(world: World) -> None:
    slot_id, (first, a), (_, b) = two_waiting_then_a_cancellation(world)
    offer = world.entry(a).offer
    assert offer is not None
    world.app.decline_waitlist_offer(
        DeclineWaitlistOffer(entry_id=a, offer_id=offer.offer_id), as_patient(first)
    )
    world.tick()
    assert world.entry(a).status is EntryStatus.DECLINED
    assert world.entry(b).status is EntryStatus.OFFERED
    held = world.entry(b).offer
    assert held is not None
    assert world.live_seats(slot_id) == [held.appointment_id]


def test_an_expired_offer_goes_to_the_next_entry_and_a_late_accept_is_refused(
    world: World,
) -> None:
    slot_id, (first, a), (_, b) = two_waiting_then_a_cancellation(world)
    stale = world.entry(a).offer
    assert stale is not None
    world.clock.advance(hours=2)  # three days away: two hours to answer
    with pytest.raises(HoldExpiredError):
        world.accept(a, first)
    world.tick()
    assert world.entry(a).status is EntryStatus.WAITING
    assert world.app.load(Appointment, stale.appointment_id, "a").status is Status.CANCELLED
    assert world.entry(b).status is EntryStatus.OFFERED
    fresh = world.entry(b).offer
    assert fresh is not None
    assert world.live_seats(slot_id) == [fresh.appointment_id]


def test_two_seats_freed_at_once_go_to_two_entries(world: World) -> None:
    slot_a, booked_a = booked_slot(world)
    slot_b, booked_b = booked_slot(world, DAYS + timedelta(hours=1))
    patients = [patient_registers(world.app) for _ in range(2)]
    entries = [world.joins(p) for p in patients]
    world.cancel(booked_a)
    world.cancel(booked_b)
    world.tick()
    offers = [world.entry(e).offer for e in entries]
    assert all(o is not None for o in offers)
    assert {o.slot_id for o in offers if o is not None} == {slot_a, slot_b}


def test_racing_policies_make_one_offer_per_seat(
    world: World,
    scheduling_class: type[Scheduling],
    store_env: dict[str, str],
    pool: ConnectionPool[Any],
) -> None:
    slot_id, booked = booked_slot(world)
    entries = [world.joins(patient_registers(world.app)) for _ in range(3)]
    world.cancel(booked)
    world.settle()
    apps = [scheduling_class(store_env, clock=world.clock) for _ in range(3)]
    try:
        policies = [OfferPolicy(a, PostgresWaitlistWork(pool), world.clock) for a in apps]
        race(policies, lambda p: p.fill_openings(100))
    finally:
        for a in apps:
            a.close()
    offered = [e for e in entries if world.entry(e).status is EntryStatus.OFFERED]
    assert offered == entries[:1]
    assert len(world.live_seats(slot_id)) == 1


def test_two_concurrent_accepts_book_once(
    world: World, scheduling_class: type[Scheduling], store_env: dict[str, str]
) -> None:
    slot_id, booked = booked_slot(world)
    patient = patient_registers(world.app)
    entry_id = world.joins(patient)
    world.cancel(booked)
    world.tick()
    apps = [scheduling_class(store_env, clock=world.clock) for _ in range(4)]
    answers: list[Any] = []
    try:

        def accept(app: Scheduling) -> None:
            offer = app.load(WaitlistEntry, entry_id, "entry").offer
            assert offer is not None
            command = AcceptWaitlistOffer(entry_id=entry_id, offer_id=offer.offer_id)
            try:
                answers.append(app.accept_waitlist_offer(command, as_patient(patient)))
            except DomainError as refused:
                answers.append(refused)

        race(apps, accept)
    finally:
        for a in apps:
            a.close()
    # Every one answers, the same appointment: the losers of the race are repeats.
    assert not [a for a in answers if isinstance(a, Exception)], answers
    booked_ids = {a.ids["appointment_id"] for a in answers}
    assert len(booked_ids) == 1
    assert world.live_seats(slot_id) == list(booked_ids)
    events = world.app.recorder.select_events(entry_id)
    assert [e.topic.rsplit(".", 1)[-1] for e in events].count("OfferAccepted") == 1


def test_a_blocked_patient_is_offered_the_nearest_free_seat(world: World) -> None:
    blocked_slot, booked = booked_slot(world)
    far = world.slot(DAYS + timedelta(days=5))
    near = world.slot(DAYS + timedelta(days=1))
    window = BlockWindow(
        provider_id=world.provider_id,
        start=T0 + DAYS,
        end=T0 + DAYS + timedelta(minutes=30),
        reason="training",
    )
    world.app.block_window(window, as_staff())
    world.tick()
    displaced = world.app.load(Appointment, booked, "a").patient_id
    entries = world.policy.work.open_entries_of(displaced)
    assert len(entries) == 1
    entry = world.entry(entries[0])
    assert (entry.tier, entry.origin, entry.moves_appointment_id) == (0, "blocked", booked)
    assert entry.offer is not None
    assert entry.offer.slot_id == near
    patient = entry.patient_id
    moved = world.accept(entry.id, patient)
    assert moved == booked  # the same appointment, moved
    assert world.live_seats(near) == [booked]
    assert world.live_seats(blocked_slot) == []
    assert world.live_seats(far) == []


def test_a_provider_cancellation_without_a_free_seat_leaves_a_top_tier_entry(
    world: World,
) -> None:
    _, booked = booked_slot(world)
    patient = world.app.load(Appointment, booked, "a").patient_id
    world.cancel(booked, as_provider=True)
    world.tick()
    entries = world.policy.work.open_entries_of(patient)
    assert len(entries) == 1
    entry = world.entry(entries[0])
    # The seat just freed is the patient's own old one: the waitlist offers it like any other.
    assert (entry.tier, entry.origin) == (0, "clinic_cancelled")


def test_booking_elsewhere_closes_the_entry_and_a_passed_deadline_expires_it(
    world: World,
) -> None:
    patient = patient_registers(world.app)
    entry_id = world.joins(patient)
    dated = world.joins(patient, appointment_type="video", deadline=(T0 + DAYS).date())
    book(world.app, world.slot(), patient)
    world.tick()
    assert world.entry(entry_id).status is EntryStatus.CANCELLED
    assert world.entry(dated).status is EntryStatus.WAITING  # a video visit: not met
    world.clock.advance(days=4)
    world.tick()
    assert world.entry(dated).status is EntryStatus.EXPIRED
