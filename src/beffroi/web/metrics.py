"""``/metrics``: health and queue depth in the Prometheus text format, for the monitoring an
operator already runs (Prometheus, Grafana Agent, VictoriaMetrics…).

Off unless ``BEFFROI_METRICS_TOKEN`` is set (the address answers 404); a scraper sends it as
``Authorization: Bearer …``. Counts only, never a text, a name or an organization: what a
queue holds, how old its oldest job is, how many items wait for judgement. Each scrape costs a
few indexed queries (the live jobs, the items still ``new``) and, with a Redis broker, one
``LLEN`` per queue.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from beffroi import config
from beffroi.jobs import engine
from beffroi.jobs.models import Job

QUEUES = (engine.FAST_QUEUE, engine.SLOW_QUEUE, engine.LEGACY_QUEUE)


def metrics_token() -> str:
    """``BEFFROI_METRICS_TOKEN``: the bearer token of ``/metrics`` ("" keeps it off)."""
    return os.environ.get("BEFFROI_METRICS_TOKEN", "").strip()


class BeffroiCollector(Collector):
    """Reads the state of the background work at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        database_up = GaugeMetricFamily(
            "beffroi_database_up", "1 when the database answered this scrape, else 0."
        )
        try:
            families = list(self._from_database())
        except Exception:  # the scrape itself must answer: an unreachable database is a fact
            database_up.add_metric([], 0)
            yield database_up
        else:
            database_up.add_metric([], 1)
            yield database_up
            yield from families
        yield from self._from_broker()

    def _from_database(self) -> Iterator[GaugeMetricFamily]:
        from beffroi.items.models import Item

        engine.load_tasks()
        jobs = GaugeMetricFamily(
            "beffroi_jobs",
            "Jobs pending, running or failed (kept until cleaned), by task and queue.",
            labels=["task", "queue", "state"],
        )
        rows = (
            Job.objects.filter(state__in=[Job.State.PENDING, Job.State.RUNNING, Job.State.FAILED])
            .values("name", "state")
            .annotate(count=Count("id"))
            .order_by("name", "state")
        )
        for row in rows:
            jobs.add_metric([row["name"], engine.queue_of(row["name"]), row["state"]], row["count"])
        yield jobs
        oldest = GaugeMetricFamily(
            "beffroi_job_oldest_pending_seconds",
            "Age of the oldest job waiting to run (due now), by queue; 0 when none waits.",
            labels=["queue"],
        )
        now = timezone.now()
        ages = {engine.FAST_QUEUE: 0.0, engine.SLOW_QUEUE: 0.0}
        due = Job.objects.filter(
            Q(run_after__isnull=True) | Q(run_after__lte=now), state=Job.State.PENDING
        )
        for name, first in due.values_list("name").annotate(first=Min("created_at")):
            queue = engine.queue_of(name)
            ages[queue] = max(ages[queue], (now - first).total_seconds())
        for queue, age in ages.items():
            oldest.add_metric([queue], round(age, 3))
        yield oldest
        waiting = GaugeMetricFamily(
            "beffroi_items_waiting_judgement",
            "Items stored and not judged yet (all organizations).",
        )
        waiting.add_metric([], Item.objects.filter(state=Item.State.NEW).count())
        yield waiting

    def _from_broker(self) -> Iterator[GaugeMetricFamily]:
        broker = config.broker_url()
        if not broker or not config.is_redis(broker):
            return
        up = GaugeMetricFamily("beffroi_broker_up", "1 when the Redis broker answered, else 0.")
        lengths = GaugeMetricFamily(
            "beffroi_broker_queue_messages",
            "Messages waiting in each Celery queue of the broker (jobs not taken by a worker).",
            labels=["queue"],
        )
        try:
            import redis

            client: Any = redis.Redis.from_url(broker, socket_timeout=2, socket_connect_timeout=2)
            for queue in QUEUES:
                lengths.add_metric([queue], client.llen(queue))
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield lengths


def exposition() -> bytes:
    """The metrics, in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BeffroiCollector())
    return generate_latest(registry)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = metrics_token()
    if not token:
        return HttpResponse(status=404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
