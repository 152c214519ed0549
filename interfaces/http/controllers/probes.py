"""Probes: /healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from interfaces.http.problems import UNAVAILABLE
from interfaces.http.services import ApiServices

log = logging.getLogger(__name__)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
Services = NamedDependency[ApiServices]


@get("/healthz", tags=["probes"])
async def healthz(services: Services) -> Response[dict[str, str]]:
    """200 when Postgres and Redis both answer, 503 naming the one that does not."""
    checks = dict(await services.health.check())
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return Response(body, status_code=200 if healthy else 503)


@get("/metrics", include_in_schema=False)
async def metrics(services: Services) -> Response[bytes]:
    """Request metrics of this process, plus system gauges read when scraped."""
    try:
        families = await _gauges(services)
    except UNAVAILABLE as error:
        log.warning("metrics without gauges: %s", error)
        families = [_gauge("almanac_backends_up", "1 when the gauges could be read", 0)]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    text = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(text, media_type=PROMETHEUS_TEXT)


async def _gauges(services: ApiServices) -> list[Metric]:
    overview = await services.overview.overview(datetime.now(UTC))
    counts = await services.metrics.execution_counts()
    lag = await services.metrics.projection_lag()
    return [
        _gauge("almanac_backends_up", "1 when the gauges could be read", 1),
        _gauge("almanac_queue_length", "Executions waiting to run (PENDING)", overview.pending),
        _gauge("almanac_executions_running", "Executions RUNNING now", overview.running),
        _gauge("almanac_worker_slots", "Handler slots of live workers", overview.worker_slots),
        _gauge("almanac_busy_slots", "Worker slots in use", overview.busy_slots),
        _labelled("almanac_executions", "Executions by status", "status", counts),
        _labelled("almanac_projection_lag", "Events a projection is behind", "projection", lag),
    ]


def _gauge(name: str, doc: str, value: float) -> Metric:
    return GaugeMetricFamily(name, doc, value=value)


def _labelled(name: str, doc: str, label: str, values: Mapping[str, int]) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class _Snapshot(Collector):
    """Yields metric families read just before the scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families
