"""The waitlist's world on PostgreSQL for the integration tests: the waitlist and scheduling
projections run by eventsourcing's ProjectionRunner, the offer policy on the real application,
and the steps the tests start from."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.projection import ProjectionRunner
from psycopg_pool import ConnectionPool

from commands.appointments.messages import CancelAppointment
from commands.scheduling import Scheduling
from commands.waitlist.messages import AcceptWaitlistOffer, JoinWaitlist
from domain.slot import Slot
from domain.waitlist import WaitlistEntry
from infra.postgres.database import Database
from infra.postgres.pool import connection_pool
from infra.postgres.read_models.waitlist_work import PostgresWaitlistWork
from infra.postgres.rows import PostgresRowView
from projections.scheduling import SchedulingProjection
from projections.waitlist import WaitlistProjection
from tests.builders import (
    T0,
    as_,
    as_patient,
    as_staff,
    book,
    create_slot,
    patient_registers,
    provider,
    register_provider,
)
from tests.fakes import FixedClock
from workers.waitlist_policy import OfferPolicy

DAYS = timedelta(days=3)


@pytest.fixture(scope="module")
def pool(database: Database) -> Iterator[ConnectionPool[Any]]:
    with connection_pool(database.conninfo, 4) as opened:
        yield opened


@pytest.fixture(scope="module")
def runners(
    store_env: dict[str, str], scheduling_class: type[Scheduling]
) -> Iterator[list[ProjectionRunner[Any, Any]]]:
    started = []
    for projection in (WaitlistProjection, SchedulingProjection):
        runner = ProjectionRunner(
            application_class=scheduling_class,
            projection_class=projection,
            view_class=PostgresRowView,
            env=store_env,
        )
        started.append(runner.__enter__())
    yield started
    for runner in started:
        runner.__exit__(None, None, None)


@dataclass
class World:
    app: Scheduling
    runners: list[ProjectionRunner[Any, Any]]
    policy: OfferPolicy
    clock: FixedClock
    provider_id: UUID

    def settle(self) -> None:
        for runner in self.runners:
            runner.wait(self.app.head_position(), timeout=10)

    def tick(self) -> None:
        """The policy acts until nothing is due (offers lapse and are offered on)."""
        for _ in range(10):
            self.settle()
            if not self.policy.tick():
                return

    def slot(self, at: timedelta = DAYS, **terms: Any) -> UUID:
        return create_slot(self.app, self.provider_id, T0 + at, **terms)

    def joins(self, patient_id: UUID, **fields: Any) -> UUID:
        self.clock.advance(seconds=1)  # joined one after the other
        command = JoinWaitlist(provider_id=self.provider_id, **fields)
        return self.app.join_waitlist(command, as_patient(patient_id)).id

    def entry(self, entry_id: UUID) -> WaitlistEntry:
        return self.app.load(WaitlistEntry, entry_id, "entry")

    def cancel(self, appointment_id: UUID, as_provider: bool = False) -> None:
        ctx = as_(provider(self.provider_id)) if as_provider else as_staff()
        self.app.cancel(CancelAppointment(appointment_id=appointment_id, reason="ill"), ctx)

    def accept(self, entry_id: UUID, patient_id: UUID) -> UUID:
        offer = self.entry(entry_id).offer
        assert offer is not None
        command = AcceptWaitlistOffer(entry_id=entry_id, offer_id=offer.offer_id)
        return self.app.accept_waitlist_offer(command, as_patient(patient_id)).ids["appointment_id"]

    def live_seats(self, slot_id: UUID) -> list[UUID]:
        slot = self.app.load(Slot, slot_id, "slot")
        return slot.booked_appointment_ids(self.clock.now())


@pytest.fixture
def world(
    app: Scheduling,
    runners: list[ProjectionRunner[Any, Any]],
    pool: ConnectionPool[Any],
    clock: FixedClock,
) -> World:
    return World(
        app,
        runners,
        OfferPolicy(app, PostgresWaitlistWork(pool), clock),
        clock,
        register_provider(app),
    )


def booked_slot(world: World, at: timedelta = DAYS) -> tuple[UUID, UUID]:
    """A slot booked by someone: (slot id, appointment id)."""
    slot_id = world.slot(at)
    booked = book(world.app, slot_id, patient_registers(world.app)).id
    world.tick()  # the new slot's opening finds its seat taken
    return slot_id, booked


def race(parties: list[Any], act: Callable[[Any], Any]) -> None:
    barrier = threading.Barrier(len(parties))

    def run(party: Any) -> None:
        barrier.wait()
        act(party)

    threads = [threading.Thread(target=run, args=(p,)) for p in parties]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
