"""The API process's adapters: the keyed application, the read-model queries, search, the
read-your-writes position listener and the log status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from commands.ports import Clock, SystemClock, VideoRooms
from commands.scheduling import Scheduling
from infra.audit.wiring import seals
from infra.bootstrap.base import (
    TRACKED,
    Say,
    database,
    keyed,
    opensearch_module,
)
from infra.bootstrap.notifications import NotificationAdapters, notification_adapters
from infra.postgres.access import PostgresAccessLog
from infra.postgres.audit_trail import PostgresAuditTrail
from infra.postgres.database import (
    events_table,
)
from infra.postgres.history import PostgresHistory
from infra.postgres.notifications.effects import DeliveryEffects
from infra.postgres.pool import connection_pool
from infra.postgres.positions import LogPositions
from infra.postgres.read_models.analytics import PostgresAnalyticsQueries
from infra.postgres.read_models.directory import PostgresDirectoryQueries
from infra.postgres.read_models.follow_ups import PostgresFollowUpQueries
from infra.postgres.read_models.scheduling import PostgresSchedulingQueries
from infra.postgres.read_models.video import PostgresVideoQueries
from infra.postgres.read_models.waitlist import PostgresWaitlistQueries
from infra.postgres.search.backend import PostgresSearch
from infra.postgres.status import PostgresStatus
from infra.settings import Settings
from infra.video.wiring import video_rooms
from projections.analytics_queries import AnalyticsQueries
from projections.audit.access import AccessLog
from projections.audit.effects import EFFECT_SOURCES
from projections.audit.proofs import AuditProofs
from projections.audit.trail import AuditTrail
from projections.directory import DirectoryQueries
from projections.follow_ups import FollowUpQueries
from projections.history import History
from projections.queries import SchedulingQueries
from projections.search import SearchBackend
from projections.status import StatusQueries
from projections.video_queries import VideoQueries
from projections.waitlist_queries import WaitlistQueries


@dataclass(frozen=True)
class ApiAdapters:
    scheduling: Scheduling
    queries: SchedulingQueries
    analytics: AnalyticsQueries
    search: SearchBackend
    positions: LogPositions  # enter it (async with) in the API's event loop
    status: StatusQueries
    clock: Clock
    audit: AuditProofs
    access: AccessLog
    trail: AuditTrail
    history: History
    directory: DirectoryQueries
    video: VideoRooms
    video_queries: VideoQueries
    follow_ups: FollowUpQueries
    waitlist: WaitlistQueries
    notifications: NotificationAdapters  # issue 10


@contextmanager
def api(settings: Settings, say: Say = print) -> Iterator[ApiAdapters]:
    """What the API's handlers use, on a pool of the configured size."""
    db = database(settings, say)
    with ExitStack() as stack:
        app = keyed(settings, db, stack)
        pool = stack.enter_context(connection_pool(db.conninfo, settings.pool_size))
        search: SearchBackend = PostgresSearch(pool)
        if settings.search_backend == "opensearch":
            search = opensearch_module(settings).OpenSearchBackend.from_url(settings.opensearch_url)
            stack.callback(search.close)  # type: ignore[attr-defined]
        yield ApiAdapters(
            scheduling=app,
            queries=PostgresSchedulingQueries(pool),
            analytics=PostgresAnalyticsQueries(pool),
            search=search,
            positions=LogPositions(
                db.conninfo, events_table(app), TRACKED, max_waiters=settings.max_read_waiters
            ),
            status=PostgresStatus(
                pool, app, TRACKED, settings.audit_origin, settings.audit_access_origin
            ),
            clock=SystemClock(),
            audit=AuditProofs(seals(settings, app, pool)),
            access=PostgresAccessLog(pool),
            history=PostgresHistory(pool, app, events_table(app), settings.audit_origin),
            trail=PostgresAuditTrail(
                pool,
                settings.audit_origin,
                settings.audit_access_origin,
                TRACKED,
                events_table(app),
                effect_sources=(*EFFECT_SOURCES, DeliveryEffects(pool)),
            ),
            directory=PostgresDirectoryQueries(pool),
            video=stack.enter_context(video_rooms(settings)),
            video_queries=PostgresVideoQueries(pool),
            follow_ups=PostgresFollowUpQueries(pool),
            waitlist=PostgresWaitlistQueries(pool),
            notifications=notification_adapters(settings, pool),
        )
