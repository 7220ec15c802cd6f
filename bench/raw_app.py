"""The HTTP baselines, under the same server, auth and pool settings as the real API: a bare
Litestar endpoint doing one insert transaction of the same rows a booking writes, and one
reading an appointment's read-model row by primary key (the queries section's baseline)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, get, post
from litestar.exceptions import NotFoundException
from psycopg_pool import ConnectionPool

from api.auth import jwt_auth
from infra.settings import Settings

ROWS = int(os.environ.get("BENCH_ROWS_PER_TX", "4"))
SIZE = int(os.environ.get("BENCH_ROW_BYTES", "400"))
TOPIC = "domain.appointment:Appointment.Scheduled"


class Booking(msgspec.Struct, forbid_unknown_fields=True):
    slot_id: uuid.UUID


def build(pool: ConnectionPool[Any], settings: Settings) -> Litestar:
    @post("/raw", status_code=201, sync_to_thread=True)
    def raw(data: Booking) -> dict[str, str]:
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_baseline "
                "(originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                [(uuid.uuid4(), 1, TOPIC, b"x" * SIZE) for _ in range(ROWS)],
            )
        return {"id": str(data.slot_id)}

    @get("/raw/{appointment_id:uuid}", sync_to_thread=True)
    def by_key(appointment_id: uuid.UUID) -> dict[str, Any]:
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT id, patient_id, provider_id, slot_id, start_at, end_at, status "
                "FROM rm_appointments WHERE id = %s",
                (appointment_id,),
            ).fetchone()
        if row is None:
            raise NotFoundException()
        keys = ("id", "patient_id", "provider_id", "slot_id", "start", "end", "status")
        return dict(zip(keys, row, strict=True))

    auth = jwt_auth(settings.jwt_secret, settings.jwt_issuer)
    return Litestar([raw, by_key], on_app_init=[auth.on_app_init])


def main() -> None:
    settings = Settings.from_env(os.environ)
    pool: ConnectionPool[Any] = ConnectionPool(
        os.environ["DATABASE_URL"], min_size=1, max_size=settings.pool_size, open=True
    )
    uvicorn.run(
        build(pool, settings),
        host="127.0.0.1",
        port=settings.port,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
