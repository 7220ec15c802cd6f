"""Waitlist offers tell the patient (issues 10 and 11): the reminder policy, run over the log,
plans a `waitlist_offer` notice per allowed channel for each `WaitlistEntry.Offered`, bounded by
the offer's expiry; the send job renders the answer-by time; and the offer never waits for or
depends on the message (answered first, the message is skipped as stale, the booking stands)."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo

from commands.waitlist.messages import AcceptWaitlistOffer, JoinWaitlist, OfferWaitlistSeat
from domain.appointment import Appointment, Status
from domain.waitlist import EntryStatus, WaitlistEntry
from tests.builders import as_patient, as_system, create_slot, register_provider
from tests.integration.notifications_support import (
    DAY3,
    World,
    clock,
    policy_clock,
    pool,
    reader_app,
    runner,
    world,
)

__all__ = ["clock", "policy_clock", "pool", "reader_app", "runner", "world"]
BERLIN = ZoneInfo("Europe/Berlin")  # the test patient's zone


def _offered(world: World) -> tuple[UUID, UUID, UUID, UUID]:
    """(patient, entry, offer, hold): a patient waits, the policy offers them a seat."""
    provider_id = register_provider(world.app)
    patient_id = world.patient()
    slot_id = create_slot(world.app, provider_id, DAY3)
    join = JoinWaitlist(provider_id=provider_id)
    entry_id = world.app.join_waitlist(join, as_patient(patient_id)).id
    command = OfferWaitlistSeat(entry_id=entry_id, slot_id=slot_id, rank={"tier": 3})
    ids = world.app.offer_waitlist_seat(command, as_system()).ids
    # The offer is recorded and holds the seat whatever becomes of the message.
    entry = world.app.load(WaitlistEntry, entry_id, "e")
    assert entry.status is EntryStatus.OFFERED
    return patient_id, entry_id, ids["offer_id"], ids["appointment_id"]


def test_an_offer_plans_a_notice_until_it_expires_and_sends_the_answer_by_time(
    world: World,
) -> None:
    patient_id, entry_id, _, hold = _offered(world)
    world.settle()
    offer = world.app.load(WaitlistEntry, entry_id, "e").offer
    assert offer is not None
    notices = [d for d in world.rows(hold) if d.kind == "waitlist_offer"]
    assert sorted(d.channel for d in notices) == ["email", "in_app", "sms"]
    assert {(d.deadline, d.start_at, d.patient_id) for d in notices} == {
        (offer.expires_at, DAY3, patient_id)
    }
    # A hold gets no reminders and no confirmation.
    assert {d.kind for d in world.rows(hold)} == {"waitlist_offer"}
    world.drain()
    statuses = {d.channel: d.status for d in world.rows(hold) if d.kind == "waitlist_offer"}
    assert statuses == {"sms": "sent", "email": "sent", "in_app": "delivered"}
    keys = {str(d.id) for d in notices}
    sent = [m for m in world.outbox.recent(1000) if m.key in keys]
    answer_by = offer.expires_at.astimezone(BERLIN)
    for message in sent:
        assert f"{answer_by:%-I}:{answer_by:%M}" in message.body  # "Reply by … at 1:00 PM"
        assert "Reply by" in message.body
        assert "https://app.example/waitlist" in message.body


def test_an_offer_answered_before_the_message_leaves_skips_it_and_stands(world: World) -> None:
    patient_id, entry_id, offer_id, hold = _offered(world)
    accept = AcceptWaitlistOffer(entry_id=entry_id, offer_id=offer_id)
    world.app.accept_waitlist_offer(accept, as_patient(patient_id))
    world.settle()
    world.drain()
    offers = {d.channel: d for d in world.rows(hold) if d.kind == "waitlist_offer"}
    assert {d.status for d in offers.values()} == {"skipped"}
    assert {d.reason for d in offers.values()} == {"stale"}
    assert world.app.load(Appointment, hold, "a").status is Status.BOOKED
    assert world.app.load(WaitlistEntry, entry_id, "e").status is EntryStatus.ACCEPTED
