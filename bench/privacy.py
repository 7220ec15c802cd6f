"""The cost of encrypting personal data: bookings/s and rebuild events/s with the
`PersonalDataAsCiphertext` transcoding (AES-256-GCM per patient, data keys wrapped by a KEK in
`slotwise_keys.data_keys`, cached in memory) beside the same work storing personal values in
clear, side by side in one run, each on a fresh database.

'Off' is not the fail-closed default (which refuses personal data): it is a transcoding that
stores `PersonalData` as its plain value, so both sides store the same events once the
aggregates carry `PersonalData`, and the ratio is the cost of the encryption and key look-ups
alone. The report counts the personal values actually stored per booking: 0 means the
aggregates do not wrap their personal fields yet, and the ratio then measures the wiring only."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoding
from psycopg_pool import ConnectionPool

from bench.booking import Run, run_threads
from bench.setup import Bookable, bench_database, make_bookables, scheduling
from commands.appointments.messages import BookAppointment
from commands.context import CommandContext
from commands.scheduling import Scheduling
from domain.actor import Actor, Role
from domain.personal import PersonalData
from infra.crypto.cache import CachedKeyStore
from infra.crypto.kek import KeyEncryptionKey, KeyRing
from infra.crypto.key_store import PostgresKeyStore
from infra.crypto.transcoding import PersonalDataAsCiphertext
from infra.postgres.database import Database
from infra.postgres.rebuild import rebuild

WRITERS = 4
STORED_MARK = b'"_type_":"personal"'


class PersonalDataInClear(Transcoding):
    """The bench's 'off': personal values stored as they are, with their subject."""

    type = PersonalData
    name = "personal"

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        return {"subject": obj.subject.hex, "value": obj.value, "erased": obj.is_erased}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        subject = UUID(data["subject"])
        return (
            PersonalData.erased(subject) if data["erased"] else PersonalData(subject, data["value"])
        )


Side = Callable[[Database, int], Iterator[Scheduling]]


@contextmanager
def _with_keys(
    db: Database, pool_size: int, transcoding: Callable[[CachedKeyStore], Transcoding]
) -> Iterator[Scheduling]:
    # Both sides make (and cache) a data key per patient at registration, as production does;
    # they differ only in whether the personal values are encrypted.
    ring = KeyRing(KeyEncryptionKey(1, os.urandom(32)))
    with ConnectionPool(db.conninfo, min_size=1, max_size=pool_size) as pool:
        keys = CachedKeyStore(PostgresKeyStore(pool, ring))
        app = scheduling(db, pool_size, personal_data=transcoding(keys), keys=keys)
        try:
            yield app
        finally:
            app.close()


@contextmanager
def encrypted(db: Database, pool_size: int) -> Iterator[Scheduling]:
    with _with_keys(db, pool_size, PersonalDataAsCiphertext) as app:
        yield app


@contextmanager
def in_clear(db: Database, pool_size: int) -> Iterator[Scheduling]:
    with _with_keys(db, pool_size, lambda _: PersonalDataInClear()) as app:
        yield app


SIDES: dict[str, Callable[[Database, int], Any]] = {"off": in_clear, "on": encrypted}


def _book(app: Scheduling, bookables: list[Bookable]) -> list[Callable[[], int]]:
    def one(b: Bookable) -> Callable[[], int]:
        def run() -> int:
            command = BookAppointment(
                slot_id=b.slot_id, reason="persistent headache", symptoms=["nausea", "aura"]
            )
            app.book(command, CommandContext(Actor(b.patient_id, Role.PATIENT)))
            return 1

        return run

    return [one(b) for b in bookables]


def _personal_values(app: Scheduling, since: int) -> int:
    notifications = app.recorder.select_notifications(start=since + 1, limit=1_000_000)
    return sum(bytes(n.state).count(STORED_MARK) for n in notifications)


def _measure(side: str, db: Database, count: int) -> tuple[Run, float, float]:
    """Bookings (run), personal values stored per booking, rebuild events/s, on `db`."""
    with SIDES[side](db, WRITERS + 2) as app:
        bookables = make_bookables(app, count)
        head = app.head_position()
        run = run_threads(WRITERS, _book(app, bookables))
        per_booking = _personal_values(app, head) / count
        events = app.head_position()
        began = time.perf_counter()
        rebuild(db.conninfo, app, "scheduling")
        rebuild_rate = events / (time.perf_counter() - began)
    return run, per_booking, rebuild_rate


def report(count: int) -> list[str]:
    results = {}
    for side in SIDES:
        with bench_database() as db:
            results[side] = _measure(side, db, count)
    (off, _, off_rebuild), (on, stored, on_rebuild) = results["off"], results["on"]
    lines = [
        f"## Personal-data encryption on vs off ({count} bookings from {WRITERS} writers, "
        "then a rebuild of scheduling; each side on a fresh database)",
        f"{'what':<28} {'off':>8} {'on':>8} {'ratio':>6}",
        f"{'bookings/s':<28} {off.ops_per_s:>8.0f} {on.ops_per_s:>8.0f} "
        f"{on.ops_per_s / off.ops_per_s:>6.2f}",
        f"{'rebuild scheduling events/s':<28} {off_rebuild:>8.0f} {on_rebuild:>8.0f} "
        f"{on_rebuild / off_rebuild:>6.2f}",
        f"(personal values stored per booking with encryption on: {stored:.1f}; goal for "
        "bookings: ratio ≥ 0.9)",
        f"ratio privacy-booking: {on.ops_per_s / off.ops_per_s:.2f}",
        f"ratio privacy-rebuild: {on_rebuild / off_rebuild:.2f}",
    ]
    if stored == 0:
        lines.append("(0: the events carry no PersonalData yet, so this measures the wiring only)")
    return lines
