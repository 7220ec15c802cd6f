"""The application factory: the only place in api/ that reaches into infra/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig

from api.auth import jwt_auth
from api.controllers.analytics import AnalyticsController
from api.controllers.appointments import AppointmentController
from api.controllers.audit import AuditController
from api.controllers.audit_trail import AuditTrailController
from api.controllers.bulk_notices import BulkNoticeController
from api.controllers.dashboard import DASHBOARD_PATH, dashboard, dashboard_script  # issue 14
from api.controllers.directory import DirectoryController
from api.controllers.feedback import FeedbackController
from api.controllers.follow_ups import FollowUpController
from api.controllers.health import HEALTH_PATH, health
from api.controllers.inbox import InboxController
from api.controllers.metrics import METRICS_PATH, metrics
from api.controllers.notification_webhooks import (
    DeliveryRecordsController,
    TwilioWebhookController,
)
from api.controllers.notifications import NotificationController
from api.controllers.payments import FeePolicyController, PaymentController  # issue 14
from api.controllers.reports import ReportController
from api.controllers.saved_reports import SavedReportController  # issue 14
from api.controllers.search import SearchController
from api.controllers.series import SeriesController
from api.controllers.slots import ScheduleController, SlotController
from api.controllers.video import VideoController
from api.controllers.video_record import VideoNoShowController, VideoRecordController
from api.controllers.video_webhooks import VideoWebhookController
from api.controllers.waitlist import WaitlistController
from api.deps import DEPENDENCIES, NotificationServices, Services, refuse_control_characters
from api.fhir.errors import outcome_on_fhir_paths
from api.fhir.router import fhir_router
from api.problems import EXCEPTION_HANDLERS, unavailable_handler
from api.read_audit import record_reads
from api.strict import StrictStructSchema
from infra import bootstrap
from infra.settings import Settings


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    """Build the API. Without `services`, the lifespan connects to the database itself."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if services is not None:
            app.state.services = services
            yield
            return
        with bootstrap.api(settings) as adapters:
            # The one listener of this process, in the loop its waiting reads run in.
            async with adapters.positions as positions:
                app.state.services = Services(
                    scheduling=adapters.scheduling,
                    queries=adapters.queries,
                    analytics=adapters.analytics,
                    search=adapters.search,
                    positions=positions,
                    clock=adapters.clock,
                    read_wait_seconds=settings.read_wait_seconds,
                    max_page_size=settings.max_page_size,
                    status=adapters.status,
                    audit=adapters.audit,
                    access=adapters.access,
                    trail=adapters.trail,
                    history=adapters.history,
                    anomaly_threshold=settings.audit_distinct_patients,
                    anomaly_role_thresholds=dict(settings.audit_distinct_patients_by_role),
                    directory=adapters.directory,
                    video=adapters.video,
                    video_queries=adapters.video_queries,
                    follow_ups=adapters.follow_ups,
                    waitlist=adapters.waitlist,
                    notifications=NotificationServices(**vars(adapters.notifications)),
                )
                yield

    auth = jwt_auth(settings.jwt_secret, settings.jwt_issuer)
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=["/schema", HEALTH_PATH, METRICS_PATH, DASHBOARD_PATH],
    )
    prometheus = PrometheusConfig(
        app_name="slotwise", prefix="slotwise", group_path=True, exclude=[METRICS_PATH]
    )
    handlers: dict[type[Exception] | int, Any] = {
        **EXCEPTION_HANDLERS,
        **dict.fromkeys(bootstrap.TRANSIENT_ERROR_TYPES, unavailable_handler(bootstrap.transient)),
    }
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
            AuditController,
            AuditTrailController,
            fhir_router(),
            VideoController,
            VideoWebhookController,
            SeriesController,
            FollowUpController,
            FeedbackController,
            VideoRecordController,
            VideoNoShowController,
            WaitlistController,
            PaymentController,  # issue 14
            FeePolicyController,
            SavedReportController,
            dashboard,
            dashboard_script,
            # Notifications (issue 10)
            NotificationController,
            InboxController,
            TwilioWebhookController,
            DeliveryRecordsController,
            BulkNoticeController,
        ],
        dependencies=DEPENDENCIES,
        before_request=refuse_control_characters,
        before_send=[record_reads],
        lifespan=[lifespan],
        on_app_init=[auth.on_app_init],
        middleware=[prometheus.middleware, rate_limit.middleware],
        # On /fhir/r4 paths each handler's problem is answered as an OperationOutcome.
        exception_handlers={
            error: outcome_on_fhir_paths(handler) for error, handler in handlers.items()
        },
        plugins=[StrictStructSchema()],
        # The process's entry point set up logging (infra/observability); Litestar's own config
        # would replace the root handler and its redaction.
        logging_config=None,
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
