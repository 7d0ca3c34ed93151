"""The task engine: claiming, retries, leases and the embedded runner (database-backed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from beffroi.jobs import engine
from beffroi.jobs.models import Job
from tests.jobs import probe_tasks


@pytest.fixture(autouse=True)
def _tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEFFROI_TASK_MODULES", "tests.jobs.probe_tasks")
    probe_tasks.CALLS.clear()


pytestmark = pytest.mark.django_db(transaction=True)


def test_enqueue_then_run_once() -> None:
    job = engine.enqueue("tests.record", {"marker": "a"})
    assert job.state == Job.State.PENDING
    assert engine.run_pending() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.result) == (Job.State.DONE, 1, "a")
    # A second delivery of the same id does nothing.
    assert engine.run_job(job.pk) == "skipped"
    assert probe_tasks.CALLS == ["a"]


def test_unknown_task_is_refused() -> None:
    with pytest.raises(KeyError):
        engine.enqueue("no.such.task")


def test_dedupe_key_keeps_one_live_job() -> None:
    first = engine.enqueue("tests.record", {"marker": "x"}, dedupe_key="k")
    second = engine.enqueue("tests.record", {"marker": "x"}, dedupe_key="k")
    assert first.pk == second.pk
    engine.run_pending()
    third = engine.enqueue("tests.record", {"marker": "x"}, dedupe_key="k")
    assert third.pk != first.pk  # the first is done, a new one may live


def test_claim_has_one_winner() -> None:
    job = engine.enqueue("tests.record", {"marker": "c"})
    assert engine.claim(job.pk, "w1") is True
    assert engine.claim(job.pk, "w2") is False


def test_failures_retry_with_backoff_then_succeed() -> None:
    job = engine.enqueue("tests.flaky", {"fail_times": 1, "key": "f"})
    assert engine.run_job(job.pk) == "retry"
    job.refresh_from_db()
    assert job.state == Job.State.PENDING and job.run_after > timezone.now()
    assert "temporary failure" in job.last_error
    assert engine.run_pending() == 0  # not due yet
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert engine.run_job(job.pk) == "done"
    job.refresh_from_db()
    assert job.attempts == 2


def test_gives_up_after_max_attempts() -> None:
    job = engine.enqueue("tests.flaky", {"fail_times": 10, "key": "g"})
    for _ in range(3):
        Job.objects.filter(pk=job.pk).update(run_after=None)
        engine.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.attempts == 3


def test_retry_later_uses_the_platform_delay() -> None:
    job = engine.enqueue("tests.rate_limited", {"key": "r"})
    assert engine.run_job(job.pk) == "retry"
    job.refresh_from_db()
    wait = (job.run_after - timezone.now()).total_seconds()
    assert 100 < wait <= 120


def test_permanent_failure_stops_at_once() -> None:
    job = engine.enqueue("tests.permanent")
    assert engine.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.attempts == 1
    assert job.last_error == "credentials revoked"


def test_worker_killed_mid_task_is_taken_over_after_its_lease() -> None:
    job = engine.enqueue("tests.record", {"marker": "k"})
    assert engine.claim(job.pk, "dead-worker")  # the worker dies here, lease held
    assert engine.run_pending() == 0  # lease still valid: nobody else takes it
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert engine.sweep() == [job.pk]
    assert engine.run_pending() == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.worker != "dead-worker") == (Job.State.DONE, 2, True)
    assert probe_tasks.CALLS == ["k"]
    # The dead worker coming back cannot overwrite the outcome.
    assert engine._finish(job.pk, "dead-worker", state=Job.State.FAILED) is False


def test_embedded_runner_runs_jobs_in_background_threads() -> None:
    runner = engine.EmbeddedRunner(threads=2, poll_seconds=0.05)
    runner.start()
    try:
        jobs = [engine.enqueue("tests.record", {"marker": f"m{i}"}) for i in range(20)]
        deadline = timezone.now() + timedelta(seconds=20)
        while timezone.now() < deadline:
            if not Job.objects.exclude(state=Job.State.DONE).exists():
                break
            import time

            time.sleep(0.05)
    finally:
        runner.stop()
    assert Job.objects.filter(pk__in=[j.pk for j in jobs], state=Job.State.DONE).count() == 20
    assert sorted(probe_tasks.CALLS) == sorted(f"m{i}" for i in range(20))


def test_slow_tasks_leave_the_last_thread_to_quick_ones() -> None:
    """Two long analyses are queued before a quick job: with two threads, one analysis runs
    and the quick job is done by the other thread long before the analyses end."""
    import time

    runner = engine.EmbeddedRunner(threads=2, poll_seconds=0.05)
    slow = [engine.enqueue("tests.analysis", {"marker": f"s{i}", "sleep": 2.0}) for i in range(2)]
    quick = engine.enqueue("tests.record", {"marker": "quick"})
    runner.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < 10:
            if Job.objects.filter(pk=quick.pk, state=Job.State.DONE).exists():
                break
            time.sleep(0.02)
        quick_done = time.monotonic() - started
        while Job.objects.filter(pk__in=[j.pk for j in slow]).exclude(state="done").exists():
            if time.monotonic() - started > 15:
                break
            time.sleep(0.05)
        slow_done = time.monotonic() - started
    finally:
        runner.stop()
    assert quick_done < 1.5
    assert probe_tasks.CALLS[0] == "quick"
    assert sorted(probe_tasks.CALLS[1:]) == ["s0", "s1"]
    # The slow ones ran one after the other, on the first thread only.
    assert 3.9 <= slow_done < 15


def test_restart_frees_jobs_of_dead_local_processes_at_once() -> None:
    import os
    import socket
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    host = socket.gethostname()
    orphan = engine.enqueue("tests.record", {"marker": "o"})
    alive = engine.enqueue("tests.record", {"marker": "p"})
    assert engine.claim(orphan.pk, f"{host}:{dead_pid}:beffroi-worker-0")
    assert engine.claim(alive.pk, f"{host}:{os.getpid()}:other-thread")
    assert engine.release_orphans() == [orphan.pk]
    assert engine.run_pending() == 1  # the orphan, without waiting for its lease
    assert probe_tasks.CALLS == ["o"]


def test_each_task_has_a_celery_queue() -> None:
    """Quick work and long work go to two queues (docs/deployment.md); a worker of the fast
    queue also reads the one queue of earlier versions, so nothing queued before is lost."""
    engine.load_tasks()
    assert engine.queue_of("moderation.judge") == engine.FAST_QUEUE
    assert engine.queue_of("conversations.send_reply") == engine.FAST_QUEUE
    assert engine.queue_of("publishing.publish_variant") == engine.FAST_QUEUE
    for long_work in ("veille.scan", "sources.sync", "moderation.retrain", "conversations.attach"):
        assert engine.queue_of(long_work) == engine.SLOW_QUEUE, long_work
    assert engine.celery_queues("fast") == [engine.FAST_QUEUE, engine.LEGACY_QUEUE]
    assert engine.celery_queues("slow") == [engine.SLOW_QUEUE]
    assert engine.celery_queues("fast,slow") == [
        engine.FAST_QUEUE,
        engine.LEGACY_QUEUE,
        engine.SLOW_QUEUE,
    ]
    with pytest.raises(ValueError, match="queues are"):
        engine.celery_queues("urgent")
    with pytest.raises(ValueError, match="queue is 'fast' or 'slow'"):
        engine.task("tests.nowhere", queue="urgent")
