"""Worker processes on the test database: Celery workers on Redis (as
``tests/jobs/test_celery_workers.py`` starts them) and ``beffroi worker`` in its embedded
mode, each in a process group of its own so that a test can kill it (SIGKILL) mid-task."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from tests.support import service_reachable

REPO = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("BEFFROI_TEST_BROKER_URL", "redis://127.0.0.1:6379")  # no db suffix


def database_url() -> str:
    """The address of the database this test runs on, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def broker_or_skip_reason() -> tuple[str | None, str]:
    """A Redis database of its own for this run (parallel runs do not share a queue), or why
    the distributed mode cannot be tested here."""
    if connection.vendor != "postgresql":
        return None, "needs PostgreSQL (run with DATABASE_URL=postgres://…, as `make test` does)"
    if not service_reachable(BROKER):
        return None, f"needs Redis at {BROKER}"
    return f"{BROKER.rstrip('/')}/{random.randint(1, 9)}", ""


class Workers:
    """Worker processes started by a test; all are stopped when it ends."""

    def __init__(self, logs: Path, env: Mapping[str, str]) -> None:
        self.logs = logs
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            # The key that encrypts the accounts' tokens: the workers read them.
            "BEFFROI_SECRET_KEY": settings.SECRET_KEY,
            "BEFFROI_HOME": str(logs / "home"),
            "PYTHONPATH": os.pathsep.join(
                path for path in (str(REPO), os.environ.get("PYTHONPATH", "")) if path
            ),
            **env,
        }
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *arguments: str) -> subprocess.Popen[bytes]:
        """``beffroi worker`` (Celery when the environment names a broker, else the embedded
        runner), one task at a time."""
        command = [sys.executable, "-m", "beffroi.cli", "worker", "--concurrency", "1"]
        proc = subprocess.Popen(
            [*command, "--loglevel", "WARNING", *arguments],
            env={**self.env, "CELERY_WORKER_NAME": name},
            stdout=(self.logs / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the worker and its children (Celery's pool): nothing runs after it."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def worker_processes(logs: Path, env: Mapping[str, str]) -> Iterator[Workers]:
    logs.mkdir(parents=True, exist_ok=True)
    workers = Workers(logs, env)
    try:
        yield workers
    finally:
        workers.stop()


@contextmanager
def celery_broker(broker: str) -> Iterator[str]:
    """An empty Redis database as the broker, emptied again afterwards."""
    import redis

    redis.Redis.from_url(broker).flushdb()
    try:
        yield broker
    finally:
        redis.Redis.from_url(broker).flushdb()


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
