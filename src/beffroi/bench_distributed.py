"""``beffroi bench --distributed``: judging throughput on PostgreSQL with 1, 2, 4… Celery
worker processes, beside the embedded default on the same comments, measured end to end.

Everything runs in throw-away places: a database created for the run on the PostgreSQL
server of ``--database-url`` (dropped at the end), a Redis database of the broker emptied
before and after, a temporary data directory. Each configuration gets its own organization
and goes through the commands an operator runs:

1. ``beffroi import`` writes the comments (the demo town's, cycled) while no worker runs:
   their judging jobs wait in the queue;
2. **cold**: the worker processes are started (``beffroi worker``), and the clock runs until
   no comment of the organization is left ``new``: process start and model loading
   included;
3. **warm**: as many comments again are imported while the workers wait (their judging jobs
   held in a Redis database no worker reads; the embedded runner paused), then the jobs are
   handed to them at once: the clock runs from that moment until every one is judged (the
   judging, not the import, is measured);
4. the workers' peak memory is read from ``/proc`` before they are stopped, and the database
   is asked whether any comment was left behind (still ``new``) or decided twice.

The embedded default (SQLite, ``beffroi worker`` without a broker: the in-process runner, one
thread) judges the same comments the same way, for the per-item cost of the distributed path
against it.
"""

from __future__ import annotations

import csv
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: How long a configuration may take to judge its comments before the bench gives up on it.
JUDGING_TIMEOUT_SECONDS = 3600.0
#: How often the database is asked how many comments are left, and memory read.
POLL_SECONDS = 0.25


class DistributedBenchError(Exception):
    """The distributed bench cannot run (no PostgreSQL or Redis); the message says which."""


@dataclass(frozen=True)
class Configuration:
    """Worker processes and the concurrency of each (Celery's prefork children)."""

    processes: int
    concurrency: int = 1

    @property
    def label(self) -> str:
        return f"{self.processes}x{self.concurrency}"


def _reachable(url: str) -> bool:
    import socket

    parts = urlsplit(url)
    default = {"postgres": 5432, "postgresql": 5432, "redis": 6379}.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default), 2):
            return True
    except OSError:
        return False


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def _scratch_database(server_url: str) -> Iterator[str]:
    """A database of its own on the server of ``server_url``, dropped afterwards."""
    import psycopg

    name = f"beffroi_bench_{os.getpid()}_{random.randrange(10**6)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _write_comments(path: Path, texts: Sequence[str], prefix: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "author", "text", "kind"])
        for number, text in enumerate(texts):
            writer.writerow(
                [
                    f"{prefix}-{number}",
                    f"2026-01-01T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:"
                    f"{number % 60:02d}+00:00",
                    f"author{number % 500}",
                    text,
                    "comment",
                ]
            )


def _cli(env: dict[str, str], *arguments: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "beffroi.cli", *arguments], env=env, capture_output=True
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise DistributedBenchError(f"beffroi {' '.join(arguments)} failed:\n{tail}")


class _Counter:
    """Asks the database how many comments of an organization are in each state."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url

    def rows(self, query: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self.url.startswith("sqlite:///"):
            import sqlite3

            with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30) as database:
                return list(database.execute(query.replace("%s", "?"), parameters))
        import psycopg

        with psycopg.connect(self.url) as database:
            return list(database.execute(query, parameters).fetchall())

    def left(self, slug: str) -> int:
        rows = self.rows(
            "SELECT count(*) FROM items_item i JOIN organizations_organization o "
            "ON o.id = i.organization_id WHERE o.slug = %s AND i.state = 'new'",
            [slug],
        )
        return int(rows[0][0])

    def decided_twice(self, slug: str) -> int:
        rows = self.rows(
            "SELECT count(*) FROM (SELECT d.item_id FROM moderation_decision d "
            "JOIN organizations_organization o ON o.id = d.organization_id "
            "WHERE o.slug = %s AND d.status <> 'shadow' "
            "GROUP BY d.item_id HAVING count(*) > 1) twice",
            [slug],
        )
        return int(rows[0][0])

    def busy_jobs(self, slug: str) -> int:
        rows = self.rows(
            "SELECT count(*) FROM jobs_job j JOIN organizations_organization o "
            "ON o.id = j.organization_id WHERE o.slug = %s AND j.state IN ('pending', 'running')",
            [slug],
        )
        return int(rows[0][0])

    def failed_jobs(self, slug: str) -> int:
        rows = self.rows(
            "SELECT count(*) FROM jobs_job j JOIN organizations_organization o "
            "ON o.id = j.organization_id WHERE o.slug = %s AND j.state = 'failed'",
            [slug],
        )
        return int(rows[0][0])


def _process_peaks_kib(pid: int) -> list[int]:
    """Peak resident memory of each process of a worker (the parent and its children)."""
    peaks = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
        pending.extend(int(child) for child in children)
    return peaks


def _cpu_seconds(pids: Sequence[int], *, reaped: bool = False) -> float:
    """User and system CPU time of processes so far (Linux ``/proc``), in seconds; with
    ``reaped``, that of their children that ended too (a server's finished connections)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if reaped:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime
    return total / ticks


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(child) for child in children)
    return found


def _postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server on this machine so far: its live processes and the
    connections it served that ended (Django may open one per job)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return _cpu_seconds(pids, reaped=True)


def _start_workers(env: dict[str, str], configuration: Configuration, logs: Path) -> list[Any]:
    workers = []
    for number in range(configuration.processes):
        log = (logs / f"worker-{configuration.label}-{number}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "beffroi.cli",
                    "worker",
                    "--concurrency",
                    str(configuration.concurrency),
                    "--loglevel",
                    "WARNING",
                    # Judging is fast work; the slow work the imports also ask for (the
                    # veille's scan, threading conversations) waits in its own queue.
                    "--queues",
                    "fast",
                ],
                # The sweeper runs once at start, then not again during the run: it would
                # hand out the held jobs of the warm import before the clock starts.
                env={
                    **env,
                    "CELERY_WORKER_NAME": f"bench{number}",
                    "BEFFROI_SWEEP_SECONDS": "3600",
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return workers


def _signal(workers: Sequence[Any], number: int) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, number)


def _stop(workers: Sequence[Any]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _until_judged(
    counter: _Counter, slug: str, started: float, workers: Sequence[Any], peaks: dict[int, int]
) -> float:
    """Seconds from ``started`` until no comment of ``slug`` is left ``new``."""
    while True:
        for worker in workers:
            for index, peak in enumerate(_process_peaks_kib(worker.pid)):
                key = worker.pid * 1000 + index
                peaks[key] = max(peaks.get(key, 0), peak)
            if worker.poll() is not None:
                raise DistributedBenchError(f"a worker stopped (exit code {worker.returncode})")
        if counter.left(slug) == 0:
            return time.perf_counter() - started
        if time.perf_counter() - started > JUDGING_TIMEOUT_SECONDS:
            raise DistributedBenchError(f"{slug}: comments still new after an hour")
        time.sleep(POLL_SECONDS)


def _until_idle(counter: _Counter, slug: str) -> None:
    """Wait until no job of ``slug`` is pending or running."""
    deadline = time.perf_counter() + JUDGING_TIMEOUT_SECONDS
    while counter.busy_jobs(slug):
        if time.perf_counter() > deadline:
            raise DistributedBenchError(f"{slug}: background work still running after an hour")
        time.sleep(POLL_SECONDS)


def _held_broker(broker_url: str) -> str:
    """Another database of the same Redis, which no worker reads: messages sent there wait."""
    parts = urlsplit(broker_url)
    number = parts.path.strip("/")
    held = (int(number) + 1) % 16 if number.isdigit() else 1
    return urlunsplit((parts.scheme, parts.netloc, f"/{held}", parts.query, parts.fragment))


def _release(broker_url: str) -> None:
    """Move the held messages to the workers' queues, each queue in one command (in order:
    a queue is a Redis list, pushed on the left and read from the right)."""
    import redis

    held = redis.Redis.from_url(_held_broker(broker_url))
    target = redis.Redis.from_url(broker_url)
    for key in held.keys("beffroi*"):
        if held.type(key) != b"list":
            continue
        messages = held.lrange(key, 0, -1)
        if messages:
            target.rpush(key, *messages)
    held.flushdb()


def _measure(
    env: dict[str, str],
    counter: _Counter,
    slug: str,
    texts: Sequence[str],
    configuration: Configuration,
    workdir: Path,
) -> dict[str, Any]:
    """Cold then warm judging of ``texts`` by ``configuration``'s workers, for one new
    organization."""
    _cli(env, "org", "create", slug, f"Bench {configuration.label}")
    cold_file, warm_file = workdir / f"{slug}-cold.csv", workdir / f"{slug}-warm.csv"
    _write_comments(cold_file, texts, "cold")
    _write_comments(warm_file, texts, "warm")
    _cli(env, "import", str(cold_file), "--org", slug, "--source", "bench")
    peaks: dict[int, int] = {}
    started = time.perf_counter()
    workers = _start_workers(env, configuration, workdir)
    try:
        cold = _until_judged(counter, slug, started, workers, peaks)
        # The comments are imported while the warm workers wait, then the judging is asked
        # of them at once: the clock measures judging, not the import. Distributed: the
        # import's jobs go to a Redis database no worker reads, then are moved to the
        # workers' queues in one command. Embedded: the runner, which reads jobs from the
        # database, is paused (SIGSTOP: its models stay loaded) once idle (stopped inside a
        # transaction it would hold SQLite's lock through the import), then resumed.
        distributed = "BEFFROI_BROKER_URL" in env
        if distributed:
            import_env = {**env, "BEFFROI_BROKER_URL": _held_broker(env["BEFFROI_BROKER_URL"])}
        else:
            import_env = env
            _until_idle(counter, slug)
            _signal(workers, signal.SIGSTOP)
        started = time.perf_counter()
        try:
            _cli(import_env, "import", str(warm_file), "--org", slug, "--source", "bench")
        finally:
            imported = time.perf_counter() - started
            if not distributed:
                _signal(workers, signal.SIGCONT)
        worker_pids = [pid for worker in workers for pid in _descendants(worker.pid)]
        cpu_before = (_cpu_seconds(worker_pids), _postgres_cpu_seconds() if distributed else 0.0)
        started = time.perf_counter()
        if distributed:
            _release(env["BEFFROI_BROKER_URL"])
        warm = _until_judged(counter, slug, started, workers, peaks)
        warm_cpu = (
            _cpu_seconds(worker_pids) - cpu_before[0],
            (_postgres_cpu_seconds() if distributed else 0.0) - cpu_before[1],
        )
    finally:
        _stop(workers)
    count = len(texts)
    return {
        "processes": configuration.processes,
        "concurrency": configuration.concurrency,
        "items": count,
        "cold_seconds": round(cold, 2),
        "cold_items_per_second": round(count / cold, 1),
        "warm_seconds": round(warm, 2),
        "warm_items_per_second": round(count / warm, 1),
        "warm_import_seconds": round(imported, 2),
        # CPU spent while the warm comments were judged: by the workers' processes, and by
        # the PostgreSQL server's when it runs on this machine (0 for SQLite: in-process).
        "warm_worker_cpu_seconds": round(warm_cpu[0], 2),
        "warm_database_cpu_seconds": round(warm_cpu[1], 2),
        "peak_rss_kib_per_process": max(peaks.values(), default=0),
        "peak_rss_kib_all_processes": sum(peaks.values()),
        "left_new": counter.left(slug),
        "decided_twice": counter.decided_twice(slug),
        "failed_jobs": counter.failed_jobs(slug),
    }


def comments(count: int) -> list[str]:
    """The demo town's comments, cycled to ``count``."""
    from beffroi.bench import _demo_comments

    pool = _demo_comments()
    return [pool[number % len(pool)] for number in range(count)]


def run_distributed(
    items: int,
    configurations: Sequence[Configuration],
    *,
    database_url: str,
    broker_url: str,
    step: Callable[[str], None],
    embedded: bool = True,
) -> dict[str, Any]:
    """Measure each configuration (and the embedded default) on ``items`` comments."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise DistributedBenchError(f"--database-url must be a PostgreSQL URL, not {database_url}")
    if not _reachable(database_url):
        raise DistributedBenchError(f"PostgreSQL is not reachable at {database_url}")
    if not broker_url.startswith(("redis://", "rediss://")):
        raise DistributedBenchError(f"--broker-url must be a Redis URL, not {broker_url}")
    if not _reachable(broker_url):
        raise DistributedBenchError(f"Redis is not reachable at {broker_url}")
    import redis

    workdir = Path(tempfile.mkdtemp(prefix="beffroi-bench-distributed-"))
    texts = comments(items)
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "BEFFROI_BROKER_URL", "BEFFROI_HOME")
    }
    base["BEFFROI_SECRET_KEY"] = secrets.token_urlsafe(32)
    figures: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "items": items,
        "distributed": [],
    }
    if embedded:
        step(f"embedded default (SQLite, in-process runner): judging {items} comments")
        home = workdir / "embedded"
        env = {**base, "BEFFROI_HOME": str(home)}
        _cli(env, "init")
        counter = _Counter(f"sqlite:///{home / 'beffroi.sqlite3'}")
        figures["embedded"] = _measure(
            env, counter, "bench-embedded", texts, Configuration(1, 1), workdir
        )
    with _scratch_database(database_url) as scratch:
        broker = redis.Redis.from_url(broker_url)
        broker.flushdb()
        redis.Redis.from_url(_held_broker(broker_url)).flushdb()
        env = {
            **base,
            "DATABASE_URL": scratch,
            "BEFFROI_BROKER_URL": broker_url,
            "BEFFROI_HOME": str(workdir / "distributed"),
        }
        _cli(env, "init")
        counter = _Counter(scratch)
        try:
            for configuration in configurations:
                step(
                    f"PostgreSQL + Celery, {configuration.processes} worker process(es) of "
                    f"concurrency {configuration.concurrency}: judging {items} comments, "
                    "cold then warm"
                )
                figures["distributed"].append(
                    _measure(
                        env,
                        counter,
                        f"bench-{configuration.label}",
                        texts,
                        configuration,
                        workdir,
                    )
                )
                broker.flushdb()
        finally:
            broker.flushdb()
    _summarise(figures)
    return figures


def _summarise(figures: dict[str, Any]) -> None:
    """Speed-ups against one worker process, and the distributed per-item cost against the
    embedded one (warm: the models loaded)."""
    runs = figures["distributed"]
    single = next((run for run in runs if run["processes"] == 1 and run["concurrency"] == 1), None)
    for run in runs:
        if single:
            run["warm_speedup_over_one_worker"] = round(
                run["warm_items_per_second"] / single["warm_items_per_second"], 2
            )
            run["cold_speedup_over_one_worker"] = round(
                run["cold_items_per_second"] / single["cold_items_per_second"], 2
            )
    embedded = figures.get("embedded")
    if embedded and single:
        figures["distributed_cost_over_embedded"] = round(
            embedded["warm_items_per_second"] / single["warm_items_per_second"], 2
        )


def parse_configurations(text: str) -> list[Configuration]:
    """``"1,2,4"`` or ``"1x1,2x1,1x2"``: worker processes, each ``x`` its concurrency."""
    configurations = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        processes, times, concurrency = part.partition("x")
        if not processes.isdigit() or (times and not concurrency.isdigit()):
            raise ValueError(f"{part!r}: write worker processes, optionally x concurrency (2x1)")
        configuration = Configuration(int(processes), int(concurrency or 1))
        if configuration.processes < 1 or configuration.concurrency < 1:
            raise ValueError(f"{part!r}: at least one process of concurrency one")
        configurations.append(configuration)
    if not configurations:
        raise ValueError("no configuration of workers given")
    return configurations
