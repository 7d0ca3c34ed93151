"""A connection dropped between a job's steps (claimed, read, finished) does not leave the job
held by nobody nor run it twice: each step is tried again on a fresh connection, and a claim
whose answer was lost is recognised as ours."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.db.models import QuerySet

from beffroi.jobs import engine
from beffroi.jobs.models import Job
from tests.jobs import probe_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _probe_tasks(monkeypatch: Any) -> None:
    monkeypatch.setenv("BEFFROI_TASK_MODULES", "tests.jobs.probe_tasks")
    monkeypatch.setattr(engine.time, "sleep", lambda seconds: None)
    probe_tasks.CALLS.clear()


def test_a_claim_written_but_whose_answer_was_lost_is_ours_and_runs_once(monkeypatch: Any) -> None:
    job = engine.enqueue("tests.record", {"marker": "once"})
    real_update = QuerySet.update
    lost = {"count": 0}

    def update_then_lose_the_answer(self: QuerySet[Any], **fields: Any) -> int:
        written = real_update(self, **fields)
        if self.model is Job and fields.get("state") == Job.State.RUNNING and not lost["count"]:
            lost["count"] += 1
            raise OperationalError("server closed the connection unexpectedly")
        return written

    monkeypatch.setattr(QuerySet, "update", update_then_lose_the_answer)
    assert engine.run_job(job.pk, "worker-a") == "done"
    assert lost["count"] == 1
    job.refresh_from_db()
    assert job.state == Job.State.DONE
    assert job.attempts == 1
    assert probe_tasks.CALLS == ["once"]


def test_a_claim_that_never_reached_the_database_is_made_again(monkeypatch: Any) -> None:
    job = engine.enqueue("tests.record", {"marker": "again"})
    real_update = QuerySet.update
    lost = {"count": 0}

    def drop_before_writing(self: QuerySet[Any], **fields: Any) -> int:
        if self.model is Job and fields.get("state") == Job.State.RUNNING and not lost["count"]:
            lost["count"] += 1
            raise OperationalError("terminating connection due to administrator command")
        return real_update(self, **fields)

    monkeypatch.setattr(QuerySet, "update", drop_before_writing)
    assert engine.run_job(job.pk, "worker-a") == "done"
    job.refresh_from_db()
    assert (job.state, job.attempts, probe_tasks.CALLS) == (Job.State.DONE, 1, ["again"])


def test_someone_elses_claim_is_not_taken_for_ours(monkeypatch: Any) -> None:
    """The lost-answer check matches our worker and our start time, not any running job."""
    job = engine.enqueue("tests.record", {"marker": "theirs"})
    assert engine.claim(job.pk, "worker-b")
    assert not engine.claim(job.pk, "worker-a")
    assert engine.run_job(job.pk, "worker-a") == "skipped"
    assert probe_tasks.CALLS == []


def test_a_job_read_failing_after_the_claim_is_read_again(monkeypatch: Any) -> None:
    job = engine.enqueue("tests.record", {"marker": "read"})
    real_get = QuerySet.get
    lost = {"count": 0}

    def get_dropping_once(self: QuerySet[Any], *args: Any, **kwargs: Any) -> Any:
        if self.model is Job and not lost["count"]:
            lost["count"] += 1
            raise OperationalError("server closed the connection unexpectedly")
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "get", get_dropping_once)
    assert engine.run_job(job.pk, "worker-a") == "done"
    assert lost["count"] == 1
    job.refresh_from_db()
    assert (job.state, probe_tasks.CALLS) == (Job.State.DONE, ["read"])
