"""`/metrics` in Prometheus' text format, computed from the database at each scrape.

A custom collector (:class:`FiguresCollector`) turns one :func:`~ml_connector.usecases.overview.
figures` reading into metric families, so the numbers are right whichever process did the work
(the console, `ml-connector run`, a cron'd `sync`, job workers): nothing is counted in memory.
Every series starts with ``ml_connector_`` and carries the connection's name:

    ml_connector_records{connection,status}                       gauge (purchases)
    ml_connector_runs_total{connection,kind,outcome}              counter
    ml_connector_cin7_calls_total{connection}                     counter
    ml_connector_cin7_rate_limit_waits_total{connection}          counter
    ml_connector_qad_calls_total{connection}                      counter
    ml_connector_qad_errors_total{connection}                     counter
    ml_connector_oldest_hold_age_seconds{connection}              gauge (0 when nothing is held)
    ml_connector_seconds_since_last_successful_sync{connection}   gauge (absent before the first)
    ml_connector_connection_healthy{connection}                   gauge (1 or 0)
    ml_connector_connection_paused{connection}                    gauge (1 while paused)
    ml_connector_cin7_calls_last_hour{connection}                 gauge

Public by default; with ``--metrics-token`` a scrape must send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ml_connector.usecases.overview import Figures, figures
from ml_connector.web.context import Console, console

__all__ = ["CONTENT_TYPE", "FiguresCollector", "router"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

router = APIRouter(tags=["metrics"])


class FiguresCollector(Collector):
    """Metric families from one reading of the database."""

    def __init__(self, reading: Figures) -> None:
        self._figures = reading

    def collect(self) -> Iterator[Metric]:
        now = self._figures.now
        lines = self._figures.overview.connections
        records = GaugeMetricFamily(
            "ml_connector_records", "Purchases by status.", labels=["connection", "status"]
        )
        healthy = GaugeMetricFamily(
            "ml_connector_connection_healthy",
            "1 unless a remote refused the credentials or the last connection test failed.",
            labels=["connection"],
        )
        paused = GaugeMetricFamily(
            "ml_connector_connection_paused",
            "1 while the connection's schedule is paused (`connection pause`), else 0.",
            labels=["connection"],
        )
        hold_age = GaugeMetricFamily(
            "ml_connector_oldest_hold_age_seconds",
            "Age of the longest-held invoice (0 when none is held).",
            labels=["connection"],
        )
        since_ok = GaugeMetricFamily(
            "ml_connector_seconds_since_last_successful_sync",
            "Seconds since the last sync pass that succeeded.",
            labels=["connection"],
        )
        last_hour = GaugeMetricFamily(
            "ml_connector_cin7_calls_last_hour",
            "Cin7 calls made by passes started in the last hour.",
            labels=["connection"],
        )
        for line in lines:
            for status, count in sorted(line.counts.items()):
                records.add_metric([line.name, status], count)
            healthy.add_metric([line.name], 0 if line.health == "unhealthy" else 1)
            paused.add_metric([line.name], 1 if line.paused else 0)
            age = (now - line.oldest_hold_since).total_seconds() if line.oldest_hold_since else 0
            hold_age.add_metric([line.name], max(age, 0.0))
            if line.last_success_at is not None:
                since_ok.add_metric(
                    [line.name], max((now - line.last_success_at).total_seconds(), 0.0)
                )
            last_hour.add_metric([line.name], line.cin7_calls_last_hour)
        yield from (records, healthy, paused, hold_age, since_ok, last_hour)

        runs = CounterMetricFamily(
            "ml_connector_runs",
            "Passes by kind and outcome.",
            labels=["connection", "kind", "outcome"],
        )
        totals = {
            name: CounterMetricFamily(f"ml_connector_{metric}", text, labels=["connection"])
            for name, metric, text in (
                ("cin7_calls", "cin7_calls", "Cin7 API calls made."),
                (
                    "cin7_rate_limited",
                    "cin7_rate_limit_waits",
                    "Times Cin7 answered 'rate limited' and a pass waited.",
                ),
                ("qad_calls", "qad_calls", "QAD API calls made."),
                ("qad_errors", "qad_errors", "QAD calls that ended in an error."),
            )
        }
        for line in lines:
            found = self._figures.totals.get(line.name)
            for (kind, outcome), count in sorted(found.outcomes.items()) if found else []:
                runs.add_metric([line.name, kind, outcome], count)
            for name, family in totals.items():
                family.add_metric([line.name], found.counters.get(name, 0) if found else 0)
        yield runs
        yield from totals.values()


def _authorised(request: Request, app: Console) -> bool:
    token = app.config.metrics_token
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.get_secret_value().encode()
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics, computed from the database",
    response_class=PlainTextResponse,
    responses={401: {"description": "a metrics token is configured and was not sent"}},
)
async def metrics(request: Request, app: Annotated[Console, Depends(console)]) -> Response:
    if not _authorised(request, app):
        return PlainTextResponse(
            "metrics need a bearer token\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(await figures(app.store, now=app.clock)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
