"""The waitlist's read model on PostgreSQL: a queue in offer order with positions, a patient's
entries with their offers, and the metrics per provider and period with their denominators
(null, with the counts, where nothing was counted)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from commands.appointments.messages import BookAppointment
from commands.waitlist.messages import DeclineWaitlistOffer, JoinWaitlist
from infra.postgres.read_models.waitlist import PostgresWaitlistQueries
from tests.builders import T0, as_patient, as_staff, patient_registers
from tests.waitlist_world import DAYS, World, booked_slot, pool, runners, world

__all__ = ["pool", "runners", "world"]


@pytest.fixture
def queries(pool: ConnectionPool[Any]) -> PostgresWaitlistQueries:
    return PostgresWaitlistQueries(pool)


def test_the_queue_lists_open_entries_in_offer_order_with_positions(
    world: World, queries: PostgresWaitlistQueries
) -> None:
    later, sooner = patient_registers(world.app), patient_registers(world.app)
    first = world.joins(later)
    second = world.joins(sooner)
    urgent = world.app.join_waitlist(
        JoinWaitlist(provider_id=world.provider_id, patient_id=sooner, tier=0), as_staff()
    ).id
    world.settle()
    places = queries.queue(world.provider_id, None, 50)
    assert [(p.position, p.entry_id) for p in places] == [(1, urgent), (2, first), (3, second)]
    assert queries.queue(None, "no-such-specialty", 50) == []


def test_a_patients_entries_carry_their_offers_and_rank_inputs(
    world: World, queries: PostgresWaitlistQueries
) -> None:
    _, booked = booked_slot(world)
    patient = patient_registers(world.app)
    entry_id = world.joins(patient)
    world.cancel(booked)
    world.tick()
    [entry] = queries.entries_of(patient, 10)
    assert (entry.id, entry.status) == (entry_id, "offered")
    [offer] = entry.offers
    assert offer.status == "open"
    assert offer.rank is not None
    assert offer.rank["place"] == 1
    assert queries.entry(entry_id) == entry


def test_metrics_count_offers_answers_fills_and_days_gained(
    world: World, queries: PostgresWaitlistQueries
) -> None:
    start = T0
    empty = queries.metrics(world.provider_id, start, start + timedelta(days=30))
    assert (empty.offers, empty.acceptance_rate.value, empty.acceptance_rate.denominator) == (
        0,
        None,
        0,
    )
    assert (empty.fill_rate.value, empty.median_seconds_to_fill, empty.days_gained_total) == (
        None,
        None,
        None,
    )
    # One freed seat: offered to A (declines), then to B, who moves a later visit into it.
    slot_id, booked = booked_slot(world)
    a, b = patient_registers(world.app), patient_registers(world.app)
    later_slot = world.slot(DAYS + timedelta(days=4))
    later = world.app.book(BookAppointment(slot_id=later_slot), as_patient(b)).id
    entry_a = world.joins(a)
    entry_b = world.joins(b, appointment_id=later)
    world.tick()
    world.cancel(booked)
    world.tick()
    offer_a = world.entry(entry_a).offer
    assert offer_a is not None
    world.clock.advance(minutes=10)
    world.app.decline_waitlist_offer(
        DeclineWaitlistOffer(entry_id=entry_a, offer_id=offer_a.offer_id), as_patient(a)
    )
    world.tick()
    world.clock.advance(minutes=20)
    assert world.accept(entry_b, b) == later
    world.settle()
    figures = queries.metrics(world.provider_id, start, start + timedelta(days=30))
    assert (figures.offers, figures.accepted, figures.declined) == (2, 1, 1)
    assert figures.acceptance_rate.value == 0.5
    assert (figures.acceptance_rate.numerator, figures.acceptance_rate.denominator) == (1, 2)
    # The cancellation freed one seat; the later visit's old seat, freed by the move, too.
    assert (figures.freed_seats, figures.filled_from_waitlist) == (2, 1)
    assert figures.fill_rate.value == 0.5
    # Record time: from the cancellation's event to the accept's, in this test's real seconds.
    assert figures.median_seconds_to_fill is not None
    assert 0 < figures.median_seconds_to_fill < 60
    assert figures.moves == 1
    assert figures.days_gained_total == pytest.approx(4.0)
    assert world.live_seats(slot_id) == [later]
