"""`GET /health`: 200 while the process serves. The body says whether the read models are
current; a projection that is stopped or failing makes it "degraded", never an error."""

from __future__ import annotations

import logging
from typing import Any

from litestar import get

from api.deps import Injected
from projections.status import StatusQueries

HEALTH_PATH = "/health"
log = logging.getLogger("slotwise.health")


@get(HEALTH_PATH, sync_to_thread=True, include_in_schema=False)
def health(log_status: Injected[StatusQueries | None]) -> dict[str, Any]:
    if log_status is None:
        return {"status": "ok"}
    try:
        status = log_status.status()
    except Exception as error:
        # The API still answers what it can; say the read models cannot be judged.
        log.warning("health: reading the projections' status failed: %s", type(error).__name__)
        return {"status": "degraded", "projections": None}
    projections = {
        r.name: {
            "stopped": r.stopped,
            "failing": r.last_error is not None,
            "open_dead_letters": r.open_dead_letters,
            "lag_events": r.lag_events,
        }
        for r in status.readers
        if r.kind == "projection"
    }
    degraded = any(r.degraded for r in status.readers if r.kind == "projection")
    return {"status": "degraded" if degraded else "ok", "projections": projections}
