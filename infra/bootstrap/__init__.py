"""The composition root: one builder per process. Each builder finds the database, wires the
adapters the settings name into the applications, and closes them when its `with` ends. Entry
points (the CLI, the API's lifespan) call a builder and hand what it yields to the process's
loop; nothing else reaches into infra/.

A package of four modules, one import for its users: `base` (what every builder shares), `api`,
`workers` (long-running processes) and `tasks` (one-off commands)."""

from __future__ import annotations

from infra.bootstrap.api import (
    ApiAdapters,
    api,
)
from infra.bootstrap.base import (
    TRACKED,
    TRANSIENT_ERROR_TYPES,
    Say,
    SetupError,
    build_scheduling,
    database,
    kafka_servers,
    keyed,
    local_kafka,
    locate_database,
    migrate,
    opensearch_module,
    transient,
    worker_parts,
)
from infra.bootstrap.exports import parquet_export  # issue 14
from infra.bootstrap.tasks import (
    Rebuilder,
    SearchRebuild,
    audit_log,
    commands,
    dead_letters,
    key_rotation,
    log_status,
    projection_rebuild,
    search_rebuild,
)
from infra.bootstrap.workers import (
    HoldSweeper,
    KafkaProjection,
    LogProjections,
    OfferPolicyParts,
    Relay,
    RoomKeeperParts,
    hold_sweeper,
    kafka_projection,
    log_projections,
    offer_policy,
    relay,
    room_keeper,
    sealer,
)

__all__ = [
    "TRACKED",
    "TRANSIENT_ERROR_TYPES",
    "ApiAdapters",
    "HoldSweeper",
    "KafkaProjection",
    "LogProjections",
    "Rebuilder",
    "Relay",
    "RoomKeeperParts",
    "Say",
    "SearchRebuild",
    "SetupError",
    "api",
    "audit_log",
    "build_scheduling",
    "commands",
    "database",
    "dead_letters",
    "hold_sweeper",
    "kafka_projection",
    "kafka_servers",
    "key_rotation",
    "keyed",
    "local_kafka",
    "locate_database",
    "log_projections",
    "log_status",
    "migrate",
    "opensearch_module",
    "parquet_export",
    "projection_rebuild",
    "relay",
    "room_keeper",
    "sealer",
    "search_rebuild",
    "transient",
    "worker_parts",
]
__all__ += ["OfferPolicyParts", "offer_policy"]
