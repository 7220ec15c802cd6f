"""The real API for the read-audit bench, with read audit on (as served) or, with
BENCH_READ_AUDIT=off, without it: the one difference is that the services lose their access log
after start-up. Only the bench does this; the API has no switch to turn read audit off."""

from __future__ import annotations

import dataclasses
import os

import uvicorn
from litestar import Litestar

from api.app import create_app
from infra.settings import Settings


def without_read_audit(app: Litestar) -> None:
    app.state.services = dataclasses.replace(app.state.services, access=None)


def main() -> None:
    settings = Settings.from_env(os.environ)
    app = create_app(settings)
    if os.environ.get("BENCH_READ_AUDIT") == "off":
        app.on_startup.append(without_read_audit)
    uvicorn.run(app, host="127.0.0.1", port=settings.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
