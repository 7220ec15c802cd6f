"""Rebuild throughput (events/s) beside the raw speed of reading and decoding the same events
from the event store, in the same run."""

from __future__ import annotations

import time

from bench.setup import make_bookables, scheduling
from commands.appointments.messages import BookAppointment
from commands.context import CommandContext
from domain.actor import Actor, Role
from infra.postgres.database import Database
from infra.postgres.rebuild import rebuild


def _fill(db: Database, bookings: int) -> int:
    app = scheduling(db, pool_size=2)
    try:
        for b in make_bookables(app, bookings):
            app.book(
                BookAppointment(slot_id=b.slot_id),
                CommandContext(Actor(b.patient_id, Role.PATIENT)),
            )
        return app.head_position()
    finally:
        app.close()


def _read_and_decode(db: Database, batch: int = 500) -> tuple[int, float]:
    app = scheduling(db, pool_size=1)
    try:
        began = time.perf_counter()
        count, position = 0, 0
        while True:
            notifications = app.recorder.select_notifications(start=position + 1, limit=batch)
            if not notifications:
                break
            for n in notifications:
                app.mapper.to_domain_event(n)
            count += len(notifications)
            position = notifications[-1].id
        return count, time.perf_counter() - began
    finally:
        app.close()


def report(db: Database, bookings: int) -> list[str]:
    head = _fill(db, bookings)
    app = scheduling(db, pool_size=2)
    rates: dict[str, float] = {}
    bases: list[float] = []
    try:
        # The baseline runs before each rebuild, and each ratio is to the one just before it:
        # load from other processes moves both alike.
        for name in ("scheduling", "analytics"):
            raw_count, raw_seconds = _read_and_decode(db)
            bases.append(raw_count / raw_seconds)
            began = time.perf_counter()
            rebuild(db.conninfo, app, name)
            rates[name] = head / (time.perf_counter() - began)
    finally:
        app.close()
    lines = [
        f"## Rebuild from the event store ({head} events), beside reading + decoding them",
        f"{'what':<30} {'events/s':>9} {'baseline':>9}",
        *(
            f"{'rebuild ' + name:<30} {rate:>9.0f} {base:>9.0f}"
            for (name, rate), base in zip(rates.items(), bases, strict=True)
        ),
    ]
    lines += [
        f"ratio rebuild-{name}: {rate / base:.2f}"
        for (name, rate), base in zip(rates.items(), bases, strict=True)
    ]
    return lines
