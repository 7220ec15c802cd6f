"""Reminder throughput (issue 10): due reminders drained through the scheduler (`FOR UPDATE
SKIP LOCKED` claims) and a real dramatiq worker on Redis running the send job (consent and
address checks, template, the recording SMS channel, the record), beside the raw rate of the
same recording writes from one plain loop; and the scheduler's lag, due → handed to a worker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from bench.setup import ROOT, STAFF, percentile, scheduling
from commands.directory.messages import PatientDetails, RegisterPatient
from commands.ports import SystemClock
from infra.devstack.redis_server import redis_url
from infra.dramatiq.sends import DramatiqSends
from infra.notifications.recorder import Outbox, recording_channels
from infra.notifications.settings import NotificationSettings
from infra.postgres.database import Database
from infra.postgres.notifications.deliveries import PostgresDeliveries
from infra.postgres.pool import connection_pool
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


def report(db: Database, reminders: int = 2000, patients: int = 100) -> Iterator[str]:
    app = scheduling(db)
    patient_ids = []
    for _ in range(patients):
        details = PatientDetails(
            name="Bench",
            time_zone="Europe/Berlin",
            phone="+4930123456",
            notification_consent=True,
        )
        patient_ids.append(app.register_patient(RegisterPatient(details=details), STAFF).id)
    each = max(reminders // patients, 1)
    total = each * patients
    settings = NotificationSettings(redis_namespace=f"bench-{uuid.uuid4().hex[:8]}")
    with connection_pool(db.conninfo, 8) as pool, redis_url(None, ROOT / ".state") as (url, _):
        due = datetime.now(UTC)
        with pool.connection() as conn:
            for patient_id in patient_ids:
                conn.execute(INSERT, {"patient": patient_id, "due": due, "each": each})
        store = PostgresDeliveries(pool)
        sends = DramatiqSends(url, settings)
        job = SendJob(
            AppReader(app),
            store,
            recording_channels(pool),
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
        outbox = Outbox(pool)
        raw_started = time.perf_counter()
        for n in range(total):
            outbox.record(f"raw-{n}-{uuid.uuid4()}", "sms", "+4930123456", None, "x" * 120)
        raw = time.perf_counter() - raw_started
    app.close()
    rate, raw_rate = total / drained, total / raw
    yield "## Reminder throughput (scheduler → dramatiq on Redis → send job → recording SMS)"
    yield f"- {total} due reminders, {sent[0] if sent else 0} sent, 4 worker threads"
    yield f"- drained at {rate:.0f} messages/s; raw recording writes from one loop {raw_rate:.0f}/s"
    yield f"ratio reminders: {rate / raw_rate:.2f} (drained / raw recording writes)"
    yield (
        f"- scheduler lag, due → handed to a worker: p50 {percentile(lags, 50):.0f} ms, "
        f"p99 {percentile(lags, 99):.0f} ms"
    )
