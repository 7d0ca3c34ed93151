"""Tasks used by the job tests; loaded by worker processes through BEFFROI_TASK_MODULES."""

from __future__ import annotations

import os
import time
from pathlib import Path

from beffroi.jobs.engine import PermanentFailure, RetryLater, task

CALLS: list[str] = []


@task("tests.record", lease_seconds=30, max_attempts=3)
def record(marker: str, sleep: float = 0.0, out_dir: str | None = None) -> str:
    """Append a line per execution so tests can count how often each job ran."""
    if sleep:
        time.sleep(sleep)
    CALLS.append(marker)
    if out_dir:
        with open(Path(out_dir) / f"{marker}.txt", "a") as handle:
            handle.write(f"{os.getpid()}\n")
    return marker


@task("tests.flaky", max_attempts=3)
def flaky(fail_times: int, key: str) -> str:
    CALLS.append(key)
    if CALLS.count(key) <= fail_times:
        raise RuntimeError("temporary failure")
    return "ok"


@task("tests.rate_limited", max_attempts=3)
def rate_limited(key: str) -> str:
    CALLS.append(key)
    if CALLS.count(key) == 1:
        raise RetryLater("platform said slow down", 120)
    return "ok"


@task("tests.permanent")
def permanent() -> None:
    raise PermanentFailure("credentials revoked")


@task("tests.slow", lease_seconds=3, max_attempts=3)
def slow(marker: str, sleep: float, out_dir: str) -> str:
    """Sleeps before writing, so a worker killed during the sleep leaves no trace."""
    time.sleep(sleep)
    with open(Path(out_dir) / f"{marker}.txt", "a") as handle:
        handle.write(f"{os.getpid()}\n")
    return marker


@task("tests.analysis", lease_seconds=30, max_attempts=1, slow=True)
def slow_analysis(marker: str, sleep: float = 0.0) -> str:
    """A long analysis: the embedded runner's last thread never takes it."""
    time.sleep(sleep)
    CALLS.append(marker)
    return marker


@task("tests.bulk", lease_seconds=30, max_attempts=3, queue="slow")
def bulk(marker: str, out_dir: str) -> str:
    """Bulk work people do not wait on: the slow Celery queue, either embedded thread."""
    with open(Path(out_dir) / f"{marker}.txt", "a") as handle:
        handle.write(f"{os.getpid()}\n")
    return marker
