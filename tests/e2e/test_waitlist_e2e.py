"""The waitlist through the real processes: the API, the log-fed projections (the session's
scheduling worker, and the waitlist projection) and the offer policy (`slotwise worker
waitlist`), on the real clock, with a 15 s answer time so an offer can run out in the test.

A blocked window -> its patient is offered the nearest free seat and accepting moves the
appointment there. Cancel -> the first entry is offered the seat under a hold -> accepting
books it; decline -> the next entry; expiry -> the next entry, and a late accept is refused;
a booking by someone else during an offer is refused; two seats freed at once go to two
entries eligible for both; the same accept sent concurrently books once. After each, every
seat is booked at most once and no hold is left behind."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from domain.actor import Role
from tests.conftest import Stack, auth, utcnow, wait_until
from tests.scenario import STAFF, ok, patient, provider, slot

ANSWER_SECONDS = 15


@pytest.fixture(scope="module")
def waitlist_stack(stack: Stack) -> Iterator[Stack]:
    saved = dict(stack.env)
    stack.env["SLOTWISE_WAITLIST_OFFER_TIERS"] = f"0s={ANSWER_SECONDS}s"
    stack.env["SLOTWISE_WAITLIST_COOLDOWN_MINUTES"] = "60"
    stack.start("waitlist-projection", "worker", "project", "waitlist", "--source", "log")
    stack.start("waitlist", "worker", "waitlist")
    stack.env.clear()
    stack.env.update(saved)
    yield stack
    stack.stop("waitlist")
    stack.stop("waitlist-projection")


class Clinic:
    """A provider with one booked slot two days ahead, and helpers over the API."""

    def __init__(self, client: httpx.Client, stack: Stack) -> None:
        self.client = client
        self.stack = stack
        self.provider_id = provider(client)
        self.start = utcnow() + timedelta(days=2)

    def booked_slot(self, hours: int = 0) -> tuple[uuid.UUID, str]:
        slot_id = slot(self.client, self.provider_id, self.start + timedelta(hours=hours))
        _, someone = patient(self.client)
        booking = {"slot_id": str(slot_id)}
        booked = ok(self.client.post("/v1/appointments", json=booking, headers=someone), 201)
        return slot_id, str(booked["id"])

    def joins(self) -> tuple[str, dict[str, str]]:
        _, me = patient(self.client)
        body = {"provider_id": str(self.provider_id)}
        return str(ok(self.client.post("/v1/waitlist", json=body, headers=me), 201)["id"]), me

    def cancel(self, appointment: str) -> None:
        body = {"reason": "cannot come"}
        ok(
            self.client.post(f"/v1/appointments/{appointment}/cancel", json=body, headers=STAFF),
            200,
        )

    def entry(self, entry_id: str) -> dict[str, Any]:
        return ok(self.client.get(f"/v1/waitlist/{entry_id}", headers=STAFF), 200)

    def status(self, entry_id: str) -> str | None:
        """The entry's status once the waitlist projection has it (None before)."""
        found = self.client.get(f"/v1/waitlist/{entry_id}", headers=STAFF)
        return str(found.json()["status"]) if found.status_code == 200 else None

    def wait_status(self, entry_id: str, status: str) -> dict[str, Any]:
        try:
            wait_until(
                lambda: self.status(entry_id) == status,
                timeout=40,
                what=f"entry {entry_id} to be {status}",
            )
        except AssertionError:
            raise AssertionError(self.stack.logs()) from None
        return self.entry(entry_id)

    def open_offer(self, entry_id: str) -> dict[str, Any]:
        entry = self.wait_status(entry_id, "offered")
        return next(o for o in entry["offers"] if o["status"] == "open")

    def answer(
        self, entry_id: str, offer: dict[str, Any], verb: str, me: dict[str, str]
    ) -> httpx.Response:
        path = f"/v1/waitlist/{entry_id}/offers/{offer['offer_id']}/{verb}"
        return self.client.post(path, json={}, headers=me)

    def seats(self, slot_id: uuid.UUID) -> list[dict[str, Any]]:
        """The slot's live appointments (booked or held), from the scheduling read model once
        it has caught up with the log."""
        day = self.start.date().isoformat()
        last = (self.start + timedelta(days=1)).date().isoformat()
        schedule = ok(
            self.client.get(
                f"/v1/providers/{self.provider_id}/schedule",
                params={"day": day, "last_day": last},
                headers=STAFF,
            ),
            200,
        )
        return [
            a
            for a in schedule["appointments"]
            if a["slot_id"] == str(slot_id) and a["status"] in ("held", "booked")
        ]


@pytest.fixture
def clinic(waitlist_stack: Stack, client: httpx.Client) -> Clinic:
    return Clinic(client, waitlist_stack)


def settled(clinic: Clinic, slot_id: uuid.UUID, expected: list[tuple[str, str]]) -> None:
    """Wait until the slot's live seats are exactly `expected` (appointment, status)."""

    def reached() -> bool:
        return sorted((a["id"], a["status"]) for a in clinic.seats(slot_id)) == sorted(expected)

    try:
        wait_until(reached, timeout=30, what=f"slot {slot_id} to hold {expected}")
    except AssertionError:
        raise AssertionError(f"{clinic.seats(slot_id)}\n{clinic.stack.logs()}") from None


def test_a_cancelled_seat_is_offered_to_the_first_entry_who_books_it(clinic: Clinic) -> None:
    slot_id, booked = clinic.booked_slot()
    first, me = clinic.joins()
    second, _ = clinic.joins()
    clinic.cancel(booked)
    offer = clinic.open_offer(first)
    assert offer["slot_id"] == str(slot_id)
    assert offer["rank"]["place"] == 1
    assert clinic.entry(second)["status"] == "waiting"
    # Held for the first entry: nobody else can book the seat meanwhile.
    _, other = patient(clinic.client)
    taken = clinic.client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=other)
    assert taken.status_code == 409, taken.text
    accepted = ok(clinic.answer(first, offer, "accept", me), 200)
    assert accepted["ids"]["appointment_id"] == offer["appointment_id"]
    clinic.wait_status(first, "accepted")
    settled(clinic, slot_id, [(offer["appointment_id"], "booked")])
    assert clinic.entry(second)["status"] == "waiting"
    listed = clinic.client.get("/v1/waitlist", headers=me)
    assert listed.status_code == 200, listed.text
    mine: list[dict[str, Any]] = listed.json()
    assert [e["id"] for e in mine] == [first]
    assert mine[0]["offers"][0]["rank"] is None  # rank inputs are for staff


def test_a_decline_moves_the_seat_to_the_next_entry(clinic: Clinic) -> None:
    slot_id, booked = clinic.booked_slot()
    first, me = clinic.joins()
    second, you = clinic.joins()
    clinic.cancel(booked)
    ok(clinic.answer(first, clinic.open_offer(first), "decline", me), 200)
    offer = clinic.open_offer(second)
    ok(clinic.answer(second, offer, "accept", you), 200)
    assert clinic.entry(first)["status"] == "declined"
    settled(clinic, slot_id, [(offer["appointment_id"], "booked")])


def test_an_expired_offer_moves_on_and_a_late_accept_is_refused(clinic: Clinic) -> None:
    slot_id, booked = clinic.booked_slot()
    first, me = clinic.joins()
    second, _ = clinic.joins()
    clinic.cancel(booked)
    stale = clinic.open_offer(first)
    fresh = clinic.open_offer(second)  # after the first one's answer time
    late = clinic.answer(first, stale, "accept", me)
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    assert clinic.entry(first)["status"] == "waiting"
    settled(clinic, slot_id, [(fresh["appointment_id"], "held")])


def test_two_seats_freed_at_once_go_to_two_entries(clinic: Clinic) -> None:
    slot_a, booked_a = clinic.booked_slot()
    slot_b, booked_b = clinic.booked_slot(hours=1)
    first, _ = clinic.joins()
    second, _ = clinic.joins()
    clinic.cancel(booked_a)
    clinic.cancel(booked_b)
    offers = [clinic.open_offer(first), clinic.open_offer(second)]
    assert {o["slot_id"] for o in offers} == {str(slot_a), str(slot_b)}
    for offer in offers:
        settled(clinic, uuid.UUID(offer["slot_id"]), [(offer["appointment_id"], "held")])


def test_the_same_accept_sent_concurrently_books_once(clinic: Clinic) -> None:
    slot_id, booked = clinic.booked_slot()
    entry_id, me = clinic.joins()
    clinic.cancel(booked)
    offer = clinic.open_offer(entry_id)
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(6)

    def accept() -> None:
        with httpx.Client(base_url=clinic.stack.base_url, timeout=30) as own:
            barrier.wait()
            path = f"/v1/waitlist/{entry_id}/offers/{offer['offer_id']}/accept"
            answers.append(own.post(path, json={}, headers=me))

    threads = [threading.Thread(target=accept) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert {a.json()["ids"]["appointment_id"] for a in answers} == {offer["appointment_id"]}
    settled(clinic, slot_id, [(offer["appointment_id"], "booked")])
    entry = clinic.entry(entry_id)
    assert [o["status"] for o in entry["offers"]] == ["accepted"]


def test_someone_elses_entry_is_not_found(clinic: Clinic) -> None:
    entry_id, _ = clinic.joins()
    stranger = auth(Role.PATIENT)
    found = clinic.client.get(f"/v1/waitlist/{entry_id}", headers=stranger)
    assert found.status_code == 404
    assert found.headers["content-type"].startswith("application/problem+json")


def test_a_blocked_patient_is_offered_the_nearest_free_seat_and_moves(clinic: Clinic) -> None:
    outside, _ = clinic.booked_slot()  # just before the window
    _, me = patient(clinic.client)
    free_near = slot(clinic.client, clinic.provider_id, clinic.start + timedelta(hours=2))
    slot(clinic.client, clinic.provider_id, clinic.start + timedelta(hours=9))
    mine_slot = slot(clinic.client, clinic.provider_id, clinic.start + timedelta(hours=1))
    booking = {"slot_id": str(mine_slot)}
    mine = ok(clinic.client.post("/v1/appointments", json=booking, headers=me), 201)["id"]
    window = {
        "provider_id": str(clinic.provider_id),
        "start": (clinic.start + timedelta(hours=1)).isoformat(),
        "end": (clinic.start + timedelta(hours=1, minutes=30)).isoformat(),
        "reason": "equipment service",
    }
    ok(clinic.client.post("/v1/slots/block", json=window, headers=STAFF), 200)

    def entry_of_patient() -> list[dict[str, Any]]:
        found = clinic.client.get("/v1/waitlist", headers=me)
        return list(found.json()) if found.status_code == 200 else []

    wait_until(lambda: bool(entry_of_patient()), timeout=40, what="the displaced entry")
    entry_id = entry_of_patient()[0]["id"]
    offer = clinic.open_offer(entry_id)
    entry = clinic.entry(entry_id)
    assert (entry["tier"], entry["origin"], entry["moves_appointment_id"]) == (0, "blocked", mine)
    assert offer["slot_id"] == str(free_near)  # the nearest of the free seats
    moved = ok(clinic.answer(entry_id, offer, "accept", me), 200)
    assert moved["ids"]["appointment_id"] == mine  # the same appointment, moved
    settled(clinic, free_near, [(mine, "booked")])
    settled(clinic, mine_slot, [])
    assert len(clinic.seats(outside)) == 1  # outside the window: left booked
