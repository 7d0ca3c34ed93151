"""/metrics: health and queue depth in Prometheus's format, off unless a token is set, counts
only (docs/deployment.md)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from beffroi.jobs import engine
from beffroi.jobs.models import Job
from tests.support import service_reachable

TOKEN = "scrape-token-for-tests"
BROKER = "redis://127.0.0.1:6379"


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEFFROI_METRICS_TOKEN", raising=False)
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_metrics_need_the_token(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEFFROI_METRICS_TOKEN", TOKEN)
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN[:-1]}):
        response = client.get("/metrics", **header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"beffroi_" not in response.content
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


@pytest.mark.django_db
def test_metrics_count_the_waiting_work_and_nothing_personal(
    client: Any, monkeypatch: pytest.MonkeyPatch, org: Any, source: Any
) -> None:
    from django.utils import timezone

    from beffroi.items.models import Author, Item

    monkeypatch.setenv("BEFFROI_METRICS_TOKEN", TOKEN)
    monkeypatch.delenv("BEFFROI_BROKER_URL", raising=False)
    author = Author.objects.create(
        organization=org, platform="file", platform_id="a", handle="martin"
    )
    for number in range(3):
        Item.objects.create(
            organization=org,
            source=source,
            author=author,
            platform_id=f"m{number}",
            kind="comment",
            text=f"Texte privé de Mme Martin {number}",
            created_at=timezone.now(),
        )
    Item.objects.filter(platform_id="m2").update(state=Item.State.PROCESSED)
    engine.load_tasks()
    Job.objects.create(name="moderation.judge", organization=org)
    Job.objects.create(name="moderation.judge", organization=org, state=Job.State.RUNNING)
    Job.objects.create(name="veille.scan", organization=org, state=Job.State.FAILED)
    Job.objects.create(name="veille.scan", organization=org, state=Job.State.DONE)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = _samples(response.content)
    fast, slow = engine.FAST_QUEUE, engine.SLOW_QUEUE
    assert samples[("beffroi_database_up", ())] == 1
    assert samples[("beffroi_items_waiting_judgement", ())] == 2

    def jobs(task: str, queue: str, state: str) -> float:
        key = ("beffroi_jobs", (("queue", queue), ("state", state), ("task", task)))
        return samples.get(key, 0.0)

    assert jobs("moderation.judge", fast, "pending") == 1
    assert jobs("moderation.judge", fast, "running") == 1
    assert jobs("veille.scan", slow, "failed") == 1
    assert jobs("veille.scan", slow, "done") == 0  # finished work is not a gauge of load
    assert samples[("beffroi_job_oldest_pending_seconds", (("queue", fast),))] >= 0
    assert samples[("beffroi_job_oldest_pending_seconds", (("queue", slow),))] == 0
    body = response.content.decode()
    assert "Martin" not in body and org.slug not in body and "beffroi_broker" not in body


@pytest.mark.django_db
def test_metrics_say_when_the_database_does_not_answer(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from beffroi.web import metrics

    def broken(self: Any) -> Any:
        raise RuntimeError("connection refused")
        yield

    monkeypatch.setenv("BEFFROI_METRICS_TOKEN", TOKEN)
    monkeypatch.setattr(metrics.BeffroiCollector, "_from_database", broken)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert _samples(response.content)[("beffroi_database_up", ())] == 0


@pytest.mark.redis
@pytest.mark.django_db
def test_metrics_read_each_queue_of_the_redis_broker(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not service_reachable(BROKER):
        pytest.skip(f"needs Redis at {BROKER}")
    import redis

    broker = f"{BROKER}/{random.randint(1, 9)}"
    server = redis.Redis.from_url(broker)
    server.delete(*engine.celery_queues("fast,slow"))
    server.lpush(engine.FAST_QUEUE, b"one", b"two")
    server.lpush(engine.SLOW_QUEUE, b"three")
    monkeypatch.setenv("BEFFROI_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("BEFFROI_BROKER_URL", broker)
    try:
        samples = _samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content)
    finally:
        server.delete(*engine.celery_queues("fast,slow"))
    assert samples[("beffroi_broker_up", ())] == 1
    queue = "beffroi_broker_queue_messages"
    assert samples[(queue, (("queue", engine.FAST_QUEUE),))] == 2
    assert samples[(queue, (("queue", engine.SLOW_QUEUE),))] == 1
    assert samples[(queue, (("queue", engine.LEGACY_QUEUE),))] == 0
    monkeypatch.setenv("BEFFROI_BROKER_URL", "redis://127.0.0.1:9/0")  # nothing listens
    samples = _samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content)
    assert samples[("beffroi_broker_up", ())] == 0
