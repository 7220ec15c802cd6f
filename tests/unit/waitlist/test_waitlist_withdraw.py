"""Given an open offer, when the policy withdraws it (its slot was blocked), then the hold is
given up, the entry waits again without a cool-down, and only the policy may withdraw."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from commands.scheduling import Scheduling
from commands.waitlist.messages import WithdrawWaitlistOffer
from domain.appointment import Appointment, Status
from domain.errors import ForbiddenError, InvalidTransitionError
from domain.slot import Slot
from domain.waitlist import EntryStatus, WaitlistEntry
from tests.builders import as_patient, as_staff, as_system, create_slot
from tests.unit.waitlist.conftest import SLOT_AT, joins, offer


def test_withdrawing_gives_the_hold_up_and_the_entry_waits_without_a_cooldown(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, hold_id = offer(app, entry_id, slot_id)
    command = WithdrawWaitlistOffer(entry_id=entry_id, offer_id=offer_id)
    app.withdraw_waitlist_offer(command, as_system())
    entry = app.load(WaitlistEntry, entry_id, "e")
    assert (entry.status, entry.offer, entry.cooldown_until) == (EntryStatus.WAITING, None, None)
    assert app.load(Appointment, hold_id, "a").status is Status.CANCELLED
    assert hold_id not in app.load(Slot, slot_id, "s").allocations
    # No cool-down: another seat can be offered straight away.
    offer(app, entry_id, create_slot(app, provider_id, SLOT_AT + timedelta(days=1)))
    with pytest.raises(InvalidTransitionError):  # the withdrawn offer is no longer open
        app.withdraw_waitlist_offer(command, as_system())


@pytest.mark.parametrize("who", ["patient", "staff"])
def test_only_the_policy_withdraws(
    app: Scheduling, patient_id: UUID, provider_id: UUID, slot_id: UUID, who: str
) -> None:
    entry_id = joins(app, patient_id, provider_id)
    offer_id, _ = offer(app, entry_id, slot_id)
    ctx = as_patient(patient_id) if who == "patient" else as_staff()
    with pytest.raises(ForbiddenError):
        app.withdraw_waitlist_offer(
            WithdrawWaitlistOffer(entry_id=entry_id, offer_id=offer_id), ctx
        )
    assert app.load(WaitlistEntry, entry_id, "e").status is EntryStatus.OFFERED
