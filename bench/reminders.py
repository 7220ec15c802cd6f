"""Reminder throughput (issue 10): due reminders drained through the scheduler (`FOR UPDATE
SKIP LOCKED` claims) and a real dramatiq worker on Redis running the send job (consent and
address checks, template, the real Twilio SMS adapter posting to the tests' local Messages API
server, which checks every request against Twilio's OpenAPI description, and the record),
beside the raw rate of the same HTTP posts to that server from one plain loop; and the
scheduler's lag, due → handed to a worker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from psycopg_pool import ConnectionPool

from bench.setup import ROOT, STAFF, percentile, scheduling
from commands.directory.messages import PatientDetails, RegisterPatient
from commands.ports import Channels, SystemClock
from infra.devstack.redis_server import redis_url
from infra.dramatiq.sends import DramatiqSends
from infra.notifications.recorder import recording_channels
from infra.notifications.settings import NotificationSettings
from infra.postgres.database import Database
from infra.postgres.notifications.deliveries import PostgresDeliveries
from infra.postgres.pool import connection_pool
from infra.twilio.messaging import TwilioMessages
from tests.contracts.twilio_described import twilio_serving
from tests.contracts.twilio_messages import TwilioMessagesServer
from workers.notifications.processes import job_runner
from workers.notifications.reader import AppReader
from workers.notifications.scheduler import Scheduler
from workers.notifications.send import Branding, SendJob

INSERT = """
INSERT INTO notification_deliveries (id, dedupe_key, patient_id, kind, category, channel,
    due_at, status, created_at, updated_at)
SELECT gen_random_uuid(), 'bench:' || g || ':' || %(patient)s::text, %(patient)s,
    'reminder_30m', 'reminders', 'sms', %(due)s, 'planned', now(), now()
FROM generate_series(1, %(each)s) AS g
"""
ACCOUNT = "AC" + "b" * 32
KEY, SECRET = "SK" + "b" * 32, "bench-api-key-secret"
SMS_FROM, PHONE = "+15005550006", "+4930123456"


def twilio_channels(pool: ConnectionPool[Any], server: TwilioMessagesServer) -> Channels:
    """The real Twilio adapter for SMS at the local server; email and push recorded."""
    recorded = recording_channels(pool)
    sms = TwilioMessages(ACCOUNT, (KEY, SECRET), sms_from=SMS_FROM, api_base_url=server.base_url)
    return Channels(sms=sms, email=recorded.email, push=recorded.push)


def raw_posts(server: TwilioMessagesServer, total: int) -> float:
    """Seconds for `total` of the same Messages API posts from one plain loop."""
    url = f"{server.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    with requests.Session() as session:
        started = time.perf_counter()
        for _ in range(total):
            form = {"To": PHONE, "From": SMS_FROM, "Body": "x" * 120}
            answer = session.post(url, data=form, auth=(KEY, SECRET), timeout=10)
            answer.raise_for_status()
        return time.perf_counter() - started


def report(db: Database, reminders: int = 2000, patients: int = 100) -> Iterator[str]:
    app = scheduling(db)
    patient_ids = []
    for _ in range(patients):
        details = PatientDetails(
            name="Bench",
            time_zone="Europe/Berlin",
            phone=PHONE,
            notification_consent=True,
        )
        patient_ids.append(app.register_patient(RegisterPatient(details=details), STAFF).id)
    each = max(reminders // patients, 1)
    total = each * patients
    settings = NotificationSettings(redis_namespace=f"bench-{uuid.uuid4().hex[:8]}")
    with (
        connection_pool(db.conninfo, 8) as pool,
        redis_url(None, ROOT / ".state") as (url, _),
        twilio_serving(TwilioMessagesServer(ACCOUNT, KEY, SECRET)) as server,
    ):
        due = datetime.now(UTC)
        with pool.connection() as conn:
            for patient_id in patient_ids:
                conn.execute(INSERT, {"patient": patient_id, "due": due, "each": each})
        store = PostgresDeliveries(pool)
        sends = DramatiqSends(url, settings)
        job = SendJob(
            AppReader(app),
            store,
            twilio_channels(pool, server),
            SystemClock(),
            Branding("Bench clinic", "https://app.example"),
            sends.enqueue,
            lambda *_: None,
            lambda *_: None,
        )
        stop = threading.Event()
        worker = threading.Thread(target=sends.serve, args=(job_runner(job), stop, 4))
        worker.start()
        started = time.perf_counter()
        Scheduler(store, sends, SystemClock(), batch=500).tick()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with pool.connection() as conn:
                row = conn.execute(
                    "SELECT count(*) FROM notification_deliveries WHERE kind = 'reminder_30m' "
                    "AND status IN ('planned', 'queued', 'sending')"
                ).fetchone()
            if row is not None and row[0] == 0:
                break
            time.sleep(0.05)
        drained = time.perf_counter() - started
        stop.set()
        worker.join()
        sends.close()
        with pool.connection() as conn:
            lags = [
                (r[0] - due).total_seconds() * 1000
                for r in conn.execute(
                    "SELECT queued_at FROM notification_deliveries WHERE kind = 'reminder_30m'"
                ).fetchall()
            ]
            sent = conn.execute(
                "SELECT count(*) FROM notification_deliveries WHERE status = 'sent'"
            ).fetchone()
        posted = len(server.messages)
        raw = raw_posts(server, total)
        refused = len(server.refusals)
    app.close()
    rate, raw_rate = total / drained, total / raw
    yield "## Reminder throughput (scheduler → dramatiq → send job → Twilio SDK → local API)"
    yield (
        f"- {total} due reminders, {sent[0] if sent else 0} sent, {posted} messages created at "
        f"the local Messages API ({refused} requests refused), 4 worker threads"
    )
    yield f"- drained at {rate:.0f} messages/s; the same posts from one plain loop {raw_rate:.0f}/s"
    yield f"ratio reminders: {rate / raw_rate:.2f} (drained / raw HTTP posts)"
    yield (
        f"- scheduler lag, due → handed to a worker: p50 {percentile(lags, 50):.0f} ms, "
        f"p99 {percentile(lags, 99):.0f} ms"
    )
