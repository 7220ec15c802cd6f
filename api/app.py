"""The application factory: the only place in api/ that reaches into infra/."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar, get
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig
from psycopg_pool import ConnectionPool

from api.auth import jwt_auth
from api.controllers.analytics import AnalyticsController
from api.controllers.appointments import AppointmentController
from api.controllers.directory import DirectoryController
from api.controllers.metrics import METRICS_PATH, metrics
from api.controllers.reports import ReportController
from api.controllers.search import SearchController
from api.controllers.slots import ScheduleController, SlotController
from api.deps import DEPENDENCIES, Services
from api.problems import EXCEPTION_HANDLERS
from commands.ports import SystemClock
from infra.analytics_queries import PostgresAnalyticsQueries
from infra.bootstrap import build_scheduling, locate_database, prepare
from infra.scheduling_queries import PostgresSchedulingQueries
from infra.search_postgres import PostgresSearch
from infra.settings import Settings, SettingsError
from infra.status import PostgresStatus
from infra.watermark import Watermark
from projections.search import SearchBackend
from projections.search_projection import SearchProjection
from projections.status import PROJECTION_NAMES


@get("/health", sync_to_thread=False, include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


def search_backend(settings: Settings, pool: ConnectionPool[Any]) -> SearchBackend:
    """The search read side the settings name; OpenSearch is imported only when chosen."""
    if settings.search_backend == "postgres":
        return PostgresSearch(pool)
    try:
        module = importlib.import_module("infra.search_opensearch")
    except ModuleNotFoundError as missing:
        msg = f"SEARCH_BACKEND=opensearch, but the OpenSearch backend cannot load: {missing}"
        raise SettingsError(msg) from None
    backend: SearchBackend = module.OpenSearchBackend.from_url(settings.opensearch_url)
    return backend


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    """Build the API. Without `services`, the lifespan connects to the database itself."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            yield
            return
        db = locate_database(settings)
        prepare(db)
        with ExitStack() as resources:
            scheduling = build_scheduling(settings, db)
            resources.callback(scheduling.close)
            pool: ConnectionPool[Any] = ConnectionPool(
                db.conninfo, min_size=1, max_size=settings.pool_size, open=True
            )
            resources.callback(pool.close)
            search = search_backend(settings, pool)
            close_search = getattr(search, "close", None)
            if callable(close_search):
                resources.callback(close_search)
            projections = (*PROJECTION_NAMES, SearchProjection.name)
            app.state.services = Services(
                scheduling=scheduling,
                queries=PostgresSchedulingQueries(pool),
                analytics=PostgresAnalyticsQueries(pool),
                search=search,
                search_position=Watermark(pool, f"{SearchProjection.name}_tracking"),
                clock=SystemClock(),
                read_wait_seconds=settings.read_wait_seconds,
                max_page_size=settings.max_page_size,
                status=PostgresStatus(pool, scheduling, projections),
            )
            yield

    auth = jwt_auth(settings.jwt_secret, settings.jwt_issuer)
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=["/schema", "/health", METRICS_PATH],
    )
    prometheus = PrometheusConfig(
        app_name="slotwise", prefix="slotwise", group_path=True, exclude=[METRICS_PATH]
    )
    return Litestar(
        route_handlers=[
            health,
            metrics,
            AppointmentController,
            SlotController,
            ScheduleController,
            DirectoryController,
            ReportController,
            AnalyticsController,
            SearchController,
        ],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        on_app_init=[auth.on_app_init],
        middleware=[prometheus.middleware, rate_limit.middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Slotwise",
            version="0.1.0",
            description="Event-sourced appointment scheduling. Errors are RFC 9457 problems.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), JsonRenderPlugin()],
        ),
        debug=False,
    )
