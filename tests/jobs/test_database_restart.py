"""Background work goes on after the database drops every connection (a restart, seen from
the client), and nothing enqueued is lost."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from beffroi.jobs import engine
from beffroi.jobs.models import Job
from tests.jobs import probe_tasks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _wait_done(ids: list[int], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Job.objects.filter(pk__in=ids, state=Job.State.DONE).count() == len(ids):
            return True
        time.sleep(0.05)
    return False


def test_embedded_runner_survives_dropped_connections(monkeypatch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…, as `make test` does)")
    monkeypatch.setenv("BEFFROI_TASK_MODULES", "tests.jobs.probe_tasks")
    probe_tasks.CALLS.clear()
    runner = engine.EmbeddedRunner(threads=1, poll_seconds=0.05)
    runner.start()
    try:
        before = [engine.enqueue("tests.record", {"marker": f"b{i}"}).pk for i in range(5)]
        assert _wait_done(before)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        # Jobs enqueued right after the drop are still all run, once each.
        after = [
            engine.enqueue("tests.record", {"marker": f"a{i}", "sleep": 0.01}).pk for i in range(5)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        assert _wait_done(after)
    finally:
        runner.stop()
    assert sorted(probe_tasks.CALLS) == sorted(
        [f"b{i}" for i in range(5)] + [f"a{i}" for i in range(5)]
    )
