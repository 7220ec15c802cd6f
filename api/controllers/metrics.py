"""Prometheus metrics: request latency and counts (recorded by the prometheus middleware), and
gauges of the event log and its readers, read from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Response, get
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.deps import Injected
from projections.positions import PositionWaits
from projections.status import StatusQueries

METRICS_PATH = "/metrics"


class LogCollector(Collector):
    def __init__(self, status: StatusQueries) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        status = self._status.status()
        yield GaugeMetricFamily(
            "slotwise_log_head_position", "Position of the last event in the log", status.head
        )
        families = {
            kind: {
                "position": GaugeMetricFamily(
                    f"slotwise_{kind}_position",
                    f"Last log position the {kind} applied",
                    labels=[kind],
                ),
                "lag_events": GaugeMetricFamily(
                    f"slotwise_{kind}_lag_events",
                    f"Events the {kind} has yet to apply",
                    labels=[kind],
                ),
                "lag_seconds": GaugeMetricFamily(
                    f"slotwise_{kind}_lag_seconds",
                    f"Age of the oldest event the {kind} has yet to apply (0 when caught up)",
                    labels=[kind],
                ),
            }
            for kind in ("projection", "relay", "sealer")
        }
        letters = GaugeMetricFamily(
            "slotwise_projection_dead_letters", "Dead-lettered events", labels=["projection"]
        )
        failing = GaugeMetricFamily(
            "slotwise_projection_failing", "1 while the last attempt failed", labels=["projection"]
        )
        stopped = GaugeMetricFamily(
            "slotwise_projection_stopped",
            "1 while stopped before a dead letter (until an operator skips or retries it)",
            labels=["projection"],
        )
        blocking = GaugeMetricFamily(
            "slotwise_projection_open_dead_letters",
            "Dead letters the projection is stopped before",
            labels=["projection"],
        )
        for reader in status.readers:
            gauges = families[reader.kind]
            gauges["position"].add_metric([reader.name], reader.position)
            gauges["lag_events"].add_metric([reader.name], reader.lag_events)
            gauges["lag_seconds"].add_metric([reader.name], reader.lag_seconds)
            if reader.kind == "projection":
                letters.add_metric([reader.name], reader.dead_letters)
                failing.add_metric([reader.name], 1.0 if reader.last_error else 0.0)
                stopped.add_metric([reader.name], 1.0 if reader.stopped else 0.0)
                blocking.add_metric([reader.name], reader.open_dead_letters)
        for gauges in families.values():
            yield from gauges.values()
        yield from (letters, failing, stopped, blocking)


class WaitsCollector(Collector):
    def __init__(self, waits: PositionWaits) -> None:
        self._waits = waits

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "slotwise_read_waiters", "Reads waiting for a log position now", self._waits.waiting
        )


@get(METRICS_PATH, sync_to_thread=True, include_in_schema=False)
def metrics(
    log_status: Injected[StatusQueries | None], read_positions: Injected[PositionWaits]
) -> Response[bytes]:
    body = generate_latest(REGISTRY) + generate_latest(WaitsCollector(read_positions))
    if log_status is not None:
        body += generate_latest(LogCollector(log_status))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
