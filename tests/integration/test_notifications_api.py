"""The notification routes on PostgreSQL: preferences (own or staff; 404 for anyone else),
push devices, the in-app inbox, delivery records for staff and auditors, dev mode's outbox, and
Twilio's webhooks: unsigned or forged ones get 403 and change nothing, signed status callbacks
move a delivery forward once, a signed inbound STOP records an opt-out and the next reminder is
skipped as opted out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient
from psycopg_pool import ConnectionPool

from api.app import create_app
from api.deps import NotificationServices, Services
from domain.actor import Actor, Role
from infra.bootstrap.notifications import DEV_TWILIO_TOKEN
from infra.notifications.recorder import Outbox
from infra.postgres.notifications.deliveries import PostgresBulkNotices, PostgresDeliveries
from infra.postgres.notifications.inbox import PostgresInbox
from infra.twilio.signatures import TwilioSignatures
from tests.fakes import FixedPositions, RecordingSearch, StillAnalytics, StillQueries
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
from tests.unit.test_api_edges import assert_problem, bearer, settings

__all__ = ["clock", "policy_clock", "pool", "reader_app", "runner", "world"]
BASE = "https://clinic.example"
KEY = b"k" * 32
SIGNER = TwilioSignatures(DEV_TWILIO_TOKEN)


@pytest.fixture
def client(world: World, pool: ConnectionPool[Any]) -> Iterator[TestClient[Any]]:
    store = PostgresDeliveries(pool)
    inbox = PostgresInbox(pool)
    notifications = NotificationServices(
        store, store, inbox, inbox, Outbox(pool), SIGNER, BASE, KEY, PostgresBulkNotices(pool, 1)
    )
    world.job.branding = type(world.job.branding)("Clinic", "https://app.example", KEY)
    services = Services(
        scheduling=world.app,
        queries=StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=world.clock,
        read_wait_seconds=0.01,
        max_page_size=200,
        notifications=notifications,
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def prefs(patient_id: UUID) -> str:
    return f"/v1/patients/{patient_id}/notifications/preferences"


def test_the_patient_reads_and_changes_their_own_preferences(
    world: World, client: TestClient[Any]
) -> None:
    patient_id = world.patient()
    me = bearer(Role.PATIENT, patient_id)
    got = client.get(prefs(patient_id), headers=me)
    assert got.status_code == 200, got.text
    assert got.json()["channels"]["reminders"] == ["sms", "email", "in_app"]
    body = {"quiet_hours": {"start": "22:00", "end": "07:00"}, "language": "es"}
    changed = client.post(prefs(patient_id), json=body, headers=me)
    assert changed.status_code == 200, changed.text
    got = client.get(prefs(patient_id), headers=bearer(Role.STAFF)).json()
    assert (got["quiet_hours"], got["language"]) == ({"start": "22:00", "end": "07:00"}, "es")


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROVIDER, Role.AUDITOR])
def test_someone_elses_preferences_are_not_found(
    world: World, client: TestClient[Any], role: Role
) -> None:
    patient_id = world.patient()
    other = bearer(role, uuid.uuid4())
    assert_problem(client.get(prefs(patient_id), headers=other), 404, "not-found")
    answer = client.post(prefs(patient_id), json={"language": "es"}, headers=other)
    assert answer.status_code in (403, 404)


def test_bad_quiet_hours_are_a_problem(world: World, client: TestClient[Any]) -> None:
    patient_id = world.patient()
    body = {"quiet_hours": {"start": "25:00", "end": "07:00"}}
    answer = client.post(prefs(patient_id), json=body, headers=bearer(Role.STAFF))
    assert answer.status_code in (400, 422)


def test_a_device_registers_for_push(world: World, client: TestClient[Any]) -> None:
    patient_id = world.patient()
    body = {"endpoint": "https://push.example/abc", "p256dh": "BKey", "auth": "auth"}
    url = f"/v1/patients/{patient_id}/notifications/devices"
    created = client.post(url, json=body, headers=bearer(Role.PATIENT, patient_id))
    assert created.status_code == 201, created.text
    assert list(world.app.push_devices(patient_id)) == [UUID(created.json()["ids"]["device_id"])]


def test_the_inbox_lists_counts_and_marks_read(world: World, client: TestClient[Any]) -> None:
    _, patient_id, _ = world.booked()
    world.drain()
    me = bearer(Role.PATIENT, patient_id)
    base = f"/v1/patients/{patient_id}/notifications/inbox"
    page = client.get(base, params={"unread": True}, headers=me).json()
    assert page["unread_count"] == 1
    assert [i["kind"] for i in page["items"]] == ["confirmation"]
    assert "Dr Ada Lovelace" in page["items"][0]["body"]
    other = bearer(Role.PATIENT, uuid.uuid4())
    item = page["items"][0]["id"]
    assert client.post(f"{base}/{item}/read", headers=other).status_code == 404
    assert client.post(f"{base}/{item}/read", headers=me).status_code == 204
    assert client.get(f"{base}/unread-count", headers=me).json() == {"unread_count": 0}
    assert client.get(base, params={"unread": True}, headers=me).json()["items"] == []
    assert client.post(f"{base}/read-all", headers=me).json() == {"marked": 0}
    assert client.get(base, params={"category": "marketing"}, headers=me).json()["items"] == []


def test_delivery_records_for_staff_and_auditors_only(
    world: World, client: TestClient[Any]
) -> None:
    appointment_id, patient_id, _ = world.booked()
    for role in (Role.STAFF, Role.AUDITOR):
        answer = client.get(
            f"/v1/appointments/{appointment_id}/notifications", headers=bearer(role)
        )
        assert answer.status_code == 200
        assert {d["kind"] for d in answer.json()} >= {"confirmation", "reminder_1440m"}
        by_patient = client.get(
            f"/v1/patients/{patient_id}/notifications/deliveries", headers=bearer(role)
        )
        assert by_patient.status_code == 200
    for role in (Role.PATIENT, Role.PROVIDER):
        answer = client.get(
            f"/v1/appointments/{appointment_id}/notifications", headers=bearer(role)
        )
        assert_problem(answer, 404, "not-found")


def test_the_dev_outbox_shows_what_was_recorded(world: World, client: TestClient[Any]) -> None:
    world.booked()
    world.drain()
    answer = client.get("/v1/dev/outbox", headers=bearer(Role.STAFF))
    assert answer.status_code == 200
    assert {e["channel"] for e in answer.json()} >= {"sms", "email"}
    assert client.get("/v1/dev/outbox", headers=bearer(Role.PATIENT)).status_code == 404


def post_signed(
    client: TestClient[Any], path: str, form: dict[str, str], signature: str | None = None
) -> Any:
    headers = {
        "X-Twilio-Signature": signature if signature is not None else SIGNER.sign(BASE + path, form)
    }
    return client.post(path, data=form, headers=headers)


STATUS = "/v1/notifications/twilio/status"
INBOUND = "/v1/notifications/twilio/inbound"


def test_status_callbacks_move_forward_once_and_forged_ones_change_nothing(
    world: World, client: TestClient[Any]
) -> None:
    appointment_id, _, _ = world.booked()
    world.drain()
    sms = next(
        d for d in world.rows(appointment_id) if d.kind == "confirmation" and d.channel == "sms"
    )
    assert (sms.status, sms.provider_message_id) == ("sent", sms.provider_message_id)
    assert sms.provider_message_id is not None
    form = {"MessageSid": sms.provider_message_id, "MessageStatus": "delivered"}
    forged = post_signed(client, STATUS, form, signature="bm90IGEgc2lnbmF0dXJl")
    assert_problem(forged, 403, "forbidden")
    unsigned = client.post(STATUS, data=form)
    assert unsigned.status_code == 403
    assert world.store.get(sms.id).status == "sent"  # type: ignore[union-attr]
    assert post_signed(client, STATUS, form).status_code == 204
    assert world.store.get(sms.id).status == "delivered"  # type: ignore[union-attr]
    late = {"MessageSid": sms.provider_message_id, "MessageStatus": "sent"}
    assert post_signed(client, STATUS, late).status_code == 204
    assert post_signed(client, STATUS, form).status_code == 204  # a duplicate
    assert world.store.get(sms.id).status == "delivered"  # type: ignore[union-attr]


def test_inbound_stop_records_an_opt_out_and_the_next_reminder_is_skipped(
    world: World, client: TestClient[Any]
) -> None:
    appointment_id, patient_id, _ = world.booked()
    world.drain()  # the confirmation SMS went to +4930123456
    stop = {"From": "+4930123456", "Body": "stop", "OptOutType": "STOP"}
    assert_problem(post_signed(client, INBOUND, stop, signature=""), 403, "forbidden")
    effective = world.app.contact_preferences(patient_id, bearer_actor(patient_id))
    assert "sms" not in {c.value for c in effective.opted_out}
    assert post_signed(client, INBOUND, stop).status_code == 204
    effective = world.app.contact_preferences(patient_id, bearer_actor(patient_id))
    assert {c.value for c in effective.opted_out} == {"sms"}
    world.settle()
    world.clock.set(DAY3 - timedelta(hours=24))
    world.drain()
    day_before = {d.channel: d for d in world.rows(appointment_id) if d.kind == "reminder_1440m"}
    # the policy re-planned without SMS; the email and in-app copies went
    assert "sms" not in day_before or day_before["sms"].reason == "opted_out"
    assert day_before["email"].status == "sent"


def bearer_actor(patient_id: UUID) -> Actor:
    return Actor(patient_id, Role.PATIENT)


def test_a_bulk_notice_reaches_the_days_patients_once_an_hour(
    world: World, client: TestClient[Any]
) -> None:
    appointment_id, _, provider_id = world.booked()
    url = f"/v1/providers/{provider_id}/notices"
    day = {"day": DAY3.date().isoformat()}
    assert client.post(url, json=day, headers=bearer(Role.PATIENT)).status_code == 403
    sent = client.post(url, json=day, headers=bearer(Role.STAFF))
    assert sent.status_code == 201, sent.text
    assert sent.json()["recipients"] == 1
    notices = [d for d in world.rows(appointment_id) if d.kind == "bulk_notice"]
    assert sorted(d.channel for d in notices) == ["email", "in_app", "sms"]
    again = client.post(url, json=day, headers=bearer(Role.STAFF))
    assert_problem(again, 429, "rate-limited")
    world.drain()
    sent_now = {d.channel: d.status for d in world.rows(appointment_id) if d.kind == "bulk_notice"}
    assert sent_now == {"sms": "sent", "email": "sent", "in_app": "delivered"}
