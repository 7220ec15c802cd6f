"""Processes starting together on a fresh database (as `make run` starts its workers) must all
come up: the event store's tables are created once, not raced for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from infra.postgres.server import PostgresLocation, create_database, drop_database
from tests.conftest import ROOT

START = (
    "import os, time\n"
    "from infra.settings import Settings\n"
    "from infra.bootstrap import build_scheduling, locate_database\n"
    "from infra.crypto.wiring import personal_data_keys\n"
    "from infra.postgres.database import prepare\n"
    "settings = Settings.from_env(os.environ)\n"
    "db = locate_database(settings, lambda _: None)\n"
    "time.sleep(max(0.0, float(os.environ['START_AT']) - time.time()))\n"
    "prepare(db)\n"
    "with personal_data_keys(settings, db.conninfo) as keys:\n"
    "    build_scheduling(settings, db, keys, pool_size=1).close()\n"
    "print('started')\n"
)


def test_six_processes_starting_at_once_on_a_fresh_database_all_start(
    pg_location: PostgresLocation,
) -> None:
    name = f"slotwise_start_{uuid.uuid4().hex[:10]}"
    create_database(pg_location.conninfo, name)
    try:
        url = f"postgresql://{pg_location.user}@{pg_location.host}:{pg_location.port}/{name}"
        env = {
            **os.environ,
            "SLOTWISE_MODE": "test",
            "DATABASE_URL": url,
            "PYTHONPATH": str(ROOT),
            # Everyone past their imports first, then all at once: the start-up race.
            "START_AT": str(time.time() + 4),
        }
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", START],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(6)
        ]
        results = [p.communicate(timeout=120) for p in processes]
    finally:
        drop_database(pg_location.conninfo, name)
    failures = [err.decode()[-500:] for out, err in results if out.decode().strip() != "started"]
    assert not failures, failures
