"""Reminders on PostgreSQL: the reminder policy, run by eventsourcing's ProjectionRunner over
the log, keeps each appointment's due rows equal to its desired reminders (book, reschedule,
cancel); schedulers racing on real connections hand every due row out once; the send job sends
once, skips stale and opted-out ones, and records in-app copies."""

from __future__ import annotations

import threading
from datetime import timedelta

from commands.appointments.messages import CancelAppointment, RescheduleAppointment
from commands.notifications.messages import RecordOptOut
from tests.builders import as_staff, as_system, block, create_slot
from tests.integration.notifications_support import (
    DAY3,
    DAY4,
    Collected,
    World,
    clock,
    policy_clock,
    pool,
    reader_app,
    runner,
    world,
)
from workers.notifications.scheduler import Scheduler

__all__ = ["clock", "policy_clock", "pool", "reader_app", "runner", "world"]


CHANNELS = ("sms", "email", "in_app")
KINDS = ("reminder_1440m", "reminder_120m", "reminder_30m")


def test_booking_plans_three_reminders_per_channel_and_a_confirmation(world: World) -> None:
    appointment_id, _, _ = world.booked()
    assert world.planned(appointment_id) == {(k, c, DAY3) for k in KINDS for c in CHANNELS}
    confirmations = [d for d in world.rows(appointment_id) if d.kind == "confirmation"]
    assert sorted(d.channel for d in confirmations) == sorted(CHANNELS)


def test_reschedule_replaces_the_reminders_and_cancel_leaves_nothing(world: World) -> None:
    bystander, _, _ = world.booked()
    untouched = {(d.id, d.status, d.due_at) for d in world.rows(bystander)}
    appointment_id, _, provider_id = world.booked()
    new_slot = create_slot(world.app, provider_id, DAY4)
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot)
    world.app.reschedule(move, as_staff())
    world.settle()
    assert world.planned(appointment_id) == {(k, c, DAY4) for k in KINDS for c in CHANNELS}
    assert {d.kind for d in world.rows(appointment_id)} >= {"confirmation", "reschedule"}
    world.app.cancel(CancelAppointment(appointment_id=appointment_id, reason="x"), as_staff())
    world.settle()
    assert world.planned(appointment_id) == set()
    assert "cancellation" in {d.kind for d in world.rows(appointment_id)}
    # another patient's reminders were never touched
    assert {(d.id, d.status, d.due_at) for d in world.rows(bystander)} == untouched


def test_due_rows_are_sent_once_and_the_in_app_copy_is_written(world: World) -> None:
    appointment_id, patient_id, _ = world.booked()
    world.drain()  # the confirmations are due now
    confirmations = [d for d in world.rows(appointment_id) if d.kind == "confirmation"]
    assert {d.status for d in confirmations if d.channel != "in_app"} == {"sent"}
    assert [d.status for d in confirmations if d.channel == "in_app"] == ["delivered"]
    keys = {r.key for r in world.outbox.recent(1000)}
    assert {str(d.id) for d in confirmations if d.channel != "in_app"} <= keys
    # Running the job again for a sent delivery sends nothing more
    before = len(world.outbox.recent(1000))
    for delivery in confirmations:
        assert world.job.run(delivery.id) == "done"
    assert len(world.outbox.recent(1000)) == before
    world.clock.set(DAY3 - timedelta(hours=24))
    world.drain()
    day_before = [d for d in world.rows(appointment_id) if d.kind == "reminder_1440m"]
    assert {d.status for d in day_before} == {"sent", "delivered"}
    assert patient_id == day_before[0].patient_id


def test_a_reminder_for_an_appointment_moved_since_it_was_handed_out_is_skipped_stale(
    world: World,
) -> None:
    appointment_id, _, provider_id = world.booked()
    world.clock.set(DAY3 - timedelta(hours=2))
    claimed = world.store.claim_due(world.clock.now(), 1000)
    mine = [d for d in world.rows(appointment_id) if d.id in claimed and d.kind == "reminder_120m"]
    assert mine
    new_slot = create_slot(world.app, provider_id, DAY4)
    move = RescheduleAppointment(appointment_id=appointment_id, new_slot_id=new_slot)
    world.app.reschedule(move, as_staff())  # the policy has not caught up
    for delivery in mine:
        assert world.job.run(delivery.id) == "skipped"
    assert {
        (d.status, d.reason) for d in world.rows(appointment_id) if d.id in {m.id for m in mine}
    } == {("skipped", "stale")}
    world.settle()
    for other in claimed:
        world.job.run(other)


def test_stop_then_a_reminder_is_skipped_as_opted_out(world: World) -> None:
    appointment_id, patient_id, _ = world.booked()
    world.clock.set(DAY3 - timedelta(hours=24))
    claimed = world.store.claim_due(world.clock.now(), 1000)
    stop = RecordOptOut(patient_id=patient_id, channel="sms", given=False, source="inbound_stop")
    world.app.record_opt_out(stop, as_system())
    sms = [d for d in world.rows(appointment_id) if d.id in claimed and d.channel == "sms"]
    assert sms
    for delivery in sms:
        world.job.run(delivery.id)
    assert {
        (d.status, d.reason) for d in world.rows(appointment_id) if d.id in {s.id for s in sms}
    } == {("skipped", "opted_out")}
    world.settle()
    for other in claimed:
        world.job.run(other)


def test_racing_schedulers_hand_every_due_row_out_once(world: World) -> None:
    for _ in range(5):
        world.booked()
    world.clock.set(DAY4 + timedelta(days=1))  # past everything: the job skips them, too late
    queues = [Collected() for _ in range(4)]
    schedulers = [Scheduler(world.store, q, world.clock, batch=3) for q in queues]
    threads = [threading.Thread(target=s.tick) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handed = [i for q in queues for i in q.ids]
    assert handed
    assert len(handed) == len(set(handed))
    assert world.store.claim_due(world.clock.now(), 1000) == []


def test_a_blocked_slot_tells_every_booked_patient(world: World) -> None:
    appointment_id, _, provider_id = world.booked()
    block(world.app, provider_id, DAY3 - timedelta(hours=1), DAY3 + timedelta(hours=1))
    world.settle()
    notices = [d for d in world.rows(appointment_id) if d.kind == "slot_blocked"]
    assert sorted(d.channel for d in notices) == ["email", "in_app", "sms"]
