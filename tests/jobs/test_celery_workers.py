"""Distributed mode for real: Celery worker processes on Redis sharing PostgreSQL jobs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from beffroi.jobs import engine
from beffroi.jobs.models import Job
from tests.support import service_reachable

REPO = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("BEFFROI_TEST_BROKER_URL", "redis://127.0.0.1:6379")  # no db suffix

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def distributed(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…, as `make test` does)")
    if not service_reachable(BROKER):
        pytest.skip(f"needs Redis at {BROKER}")
    monkeypatch.setenv("BEFFROI_TASK_MODULES", "tests.jobs.probe_tasks")
    # A Redis database of its own, so parallel test runs do not share a queue.
    broker = f"{BROKER.rstrip('/')}/{random.randint(1, 9)}"
    settings.BEFFROI_BROKER_URL = broker
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "BEFFROI_BROKER_URL": broker,
        "BEFFROI_TASK_MODULES": "tests.jobs.probe_tasks",
        "BEFFROI_SWEEP_SECONDS": "1",
        "BEFFROI_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),
    }
    import redis

    redis.Redis.from_url(broker).flushdb()
    workers: list[subprocess.Popen[bytes]] = []

    def start(name: str, *options: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "beffroi.cli",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                *options,
            ],
            env={**env, "CELERY_WORKER_NAME": name},
            stdout=(tmp_path / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        workers.append(proc)
        return proc

    yield {"start": start, "out": tmp_path}
    for proc in workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    redis.Redis.from_url(broker).flushdb()


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_two_workers_share_jobs_without_duplicates(distributed: dict[str, Any]) -> None:
    distributed["start"]("w1")
    distributed["start"]("w2")
    out: Path = distributed["out"]
    jobs = [
        engine.enqueue("tests.record", {"marker": f"j{i}", "sleep": 0.1, "out_dir": str(out)})
        for i in range(40)
    ]
    ids = [job.pk for job in jobs]
    assert _wait(lambda: Job.objects.filter(pk__in=ids, state="done").count() == 40, 90), (
        Job.objects.filter(pk__in=ids).values_list("state", "last_error")[:5]
    )
    pids: set[str] = set()
    for i in range(40):
        lines = (out / f"j{i}.txt").read_text().split()
        assert len(lines) == 1, f"job j{i} ran {len(lines)} times"
        pids.update(lines)
    assert len(pids) == 2, "both worker processes took a share of the work"
    assert set(Job.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_job_of_a_killed_worker_is_finished_by_another(distributed: dict[str, Any]) -> None:
    out: Path = distributed["out"]
    first = distributed["start"]("doomed")
    job = engine.enqueue("tests.slow", {"marker": "s", "sleep": 4, "out_dir": str(out)})
    assert _wait(lambda: Job.objects.get(pk=job.pk).state == "running", 60)
    os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-task
    distributed["start"]("rescuer")
    assert _wait(lambda: Job.objects.get(pk=job.pk).state == "done", 60)
    job.refresh_from_db()
    assert job.attempts == 2
    assert (out / "s.txt").read_text().split().__len__() == 1


def test_fast_work_is_never_stuck_behind_slow_work(distributed: dict[str, Any]) -> None:
    """A worker given the fast queue runs the quick jobs and leaves the slow queue's (a
    scan, a retraining, bulk threading) to a worker given that queue."""
    out: Path = distributed["out"]
    distributed["start"]("quick", "--queues", "fast")
    slow = [
        engine.enqueue("tests.analysis", {"marker": "scan", "sleep": 0}),
        engine.enqueue("tests.bulk", {"marker": "bulk", "out_dir": str(out)}),
    ]
    fast = [
        engine.enqueue("tests.record", {"marker": f"f{i}", "out_dir": str(out)}) for i in range(3)
    ]
    assert _wait(
        lambda: Job.objects.filter(pk__in=[j.pk for j in fast], state="done").count() == 3, 60
    )
    time.sleep(2)  # the slow jobs had every chance to be taken by the fast worker
    assert set(Job.objects.filter(pk__in=[j.pk for j in slow]).values_list("state", flat=True)) == {
        "pending"
    }
    distributed["start"]("thorough", "--queues", "slow")
    assert _wait(
        lambda: Job.objects.filter(pk__in=[j.pk for j in slow], state="done").count() == 2, 60
    )
    assert (out / "bulk.txt").read_text().split().__len__() == 1
