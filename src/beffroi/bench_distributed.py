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
import dataclasses
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
#: The Celery queue of judging (``beffroi.jobs.engine.FAST_QUEUE``, not imported: this
#: module runs before Django is set up).
FAST_QUEUE_NAME = "beffroi.fast"
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

    def _count(self, query: str, *parameters: str) -> int:
        return int(self.rows(query, parameters)[0][0])

    def left(self, slug: str) -> int:
        return self._count(
            "SELECT count(*) FROM items_item i JOIN organizations_organization o "
            "ON o.id = i.organization_id WHERE o.slug = %s AND i.state = 'new'",
            slug,
        )

    def decided_twice(self, slug: str) -> int:
        return self._count(
            "SELECT count(*) FROM (SELECT d.item_id FROM moderation_decision d "
            "JOIN organizations_organization o ON o.id = d.organization_id "
            "WHERE o.slug = %s AND d.status <> 'shadow' "
            "GROUP BY d.item_id HAVING count(*) > 1) twice",
            slug,
        )

    def _jobs(self, slug: str, state: str, other_state: str) -> int:
        return self._count(
            "SELECT count(*) FROM jobs_job j JOIN organizations_organization o "
            "ON o.id = j.organization_id WHERE o.slug = %s AND j.state IN (%s, %s)",
            slug,
            state,
            other_state,
        )

    def scans_done(self, slug: str) -> int:
        return self._count(
            "SELECT count(*) FROM jobs_job j JOIN organizations_organization o "
            "ON o.id = j.organization_id WHERE o.slug = %s AND j.name = 'veille.scan' "
            "AND j.state = 'done'",
            slug,
        )

    def busy_jobs(self, slug: str) -> int:
        return self._jobs(slug, "pending", "running")

    def failed_jobs(self, slug: str) -> int:
        return self._jobs(slug, "failed", "failed")


def _process_peaks_kib(pid: int) -> list[int]:
    """Peak resident memory of each process of a worker (the parent and its children)."""
    peaks: list[int] = []
    for process in _descendants(pid):
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        peaks.extend(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")
        )
    return peaks


def _note_peaks(workers: Sequence[Any], peaks: dict[int, int]) -> None:
    """Raise ``peaks`` (one entry per process of each worker) to what ``/proc`` says now."""
    for worker in workers:
        for index, peak in enumerate(_process_peaks_kib(worker.pid)):
            key = worker.pid * 1000 + index
            peaks[key] = max(peaks.get(key, 0), peak)


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


def _start_workers(
    env: dict[str, str],
    configuration: Configuration,
    logs: Path,
    *,
    queues: str = "fast",
    label: str = "",
) -> list[Any]:
    workers = []
    for number in range(configuration.processes):
        name = f"{label or configuration.label}-{number}"
        log = (logs / f"worker-{name}.log").open("wb")
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
                    queues,
                ],
                # The sweeper runs once at start, then not again during the run: it would
                # hand out the held jobs of the warm import before the clock starts.
                env={
                    **env,
                    "CELERY_WORKER_NAME": f"bench{name}",
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
        _note_peaks(workers, peaks)
        for worker in workers:
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
    """The next database of the same Redis, which no worker reads: messages sent there
    wait (the bench empties it too)."""
    parts = urlsplit(broker_url)
    number = parts.path.strip("/") or "0"
    return urlunsplit(
        (parts.scheme, parts.netloc, f"/{int(number) + 1}", parts.query, parts.fragment)
    )


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


#: Batches per second in which the arrivals are written (as a connector's webhook or a
#: stream would: a few comments at a time).
ARRIVAL_BATCHES_PER_SECOND = 10
#: How often the bench looks for newly judged comments: the resolution of the latencies.
LATENCY_POLL_SECONDS = 0.05


def produce_arrivals(slug: str, rate: int, seconds: int, out: Path) -> None:
    """Write ``rate`` comments a second for ``seconds`` into organization ``slug`` through
    ingestion (which asks for their judgement), and note when each batch arrived (one line
    per batch: its first comment's number, its size, the time its ingestion began).

    Run in its own process (``python -m beffroi.bench_distributed produce …``), with the
    settings of the measured installation."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
    django.setup()
    from beffroi.bench import _comment_items
    from beffroi.items.ingest import ingest
    from beffroi.sources.models import Source

    source = Source.objects.get(organization__slug=slug, name="bench")
    per_batch = max(1, rate // ARRIVAL_BATCHES_PER_SECOND)
    texts = comments(rate * seconds)
    started = time.time()
    with out.open("w") as log:
        for first in range(0, len(texts), per_batch):
            time.sleep(max(0.0, started + first / rate - time.time()))
            batch = [
                dataclasses.replace(item, platform_id=f"arrival-{first + offset}")
                for offset, item in enumerate(
                    _comment_items(texts[first : first + per_batch], "arrival")
                )
            ]
            arrived = time.time()
            ingest(source, batch)
            log.write(f"{first} {len(batch)} {arrived:.4f}\n")
            log.flush()


def _arrival_times(log: Path) -> dict[str, float]:
    """When each comment arrived, from :func:`produce_arrivals`'s log."""
    stored: dict[str, float] = {}
    for line in log.read_text().splitlines():
        first, size, moment = line.split()
        for number in range(int(first), int(first) + int(size)):
            stored[f"arrival-{number}"] = float(moment)
    return stored


def _measure_arrivals(
    env: dict[str, str],
    database_url: str,
    rate: int,
    seconds: int,
    fast_workers: int,
    workdir: Path,
    step: Callable[[str], None],
) -> dict[str, Any]:
    """Comments arriving at ``rate`` a second for ``seconds`` while ``fast_workers`` fast
    workers judge and one slow worker runs the scans (and threads conversations) that
    their ingestion asks for: the time from each comment's storage to its judgement."""
    import psycopg
    import redis

    slug = f"bench-arrivals-{rate}"
    counter = _Counter(database_url)
    _cli(env, "org", "create", slug, "Bench arrivals")
    first_file = workdir / f"{slug}-first.csv"
    _write_comments(first_file, comments(1), "first")
    _cli(env, "import", str(first_file), "--org", slug, "--source", "bench")
    workers = _start_workers(env, Configuration(fast_workers, 1), workdir)
    workers += _start_workers(env, Configuration(1, 1), workdir, queues="slow", label="slow")
    peaks: dict[int, int] = {}
    log = workdir / f"{slug}.log"
    broker = redis.Redis.from_url(env["BEFFROI_BROKER_URL"])
    try:
        _until_judged(counter, slug, time.perf_counter(), workers, peaks)  # models loaded
        step(f"{rate} comments a second for {seconds} s")
        producer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "beffroi.bench_distributed",
                "produce",
                slug,
                str(rate),
                str(seconds),
                str(log),
            ],
            env=env,
            stdout=(workdir / f"{slug}-producer.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        judged_at: dict[str, float] = {}
        waiting_max = queue_max = 0
        last_sample = 0.0
        with psycopg.connect(database_url, autocommit=True) as database:
            (organization,) = database.execute(
                "SELECT id FROM organizations_organization WHERE slug = %s", [slug]
            ).fetchone() or (0,)
            low = 0
            deadline = time.time() + seconds + 600
            while time.time() < deadline:
                now = time.time()
                rows = database.execute(
                    "SELECT id, platform_id, state FROM items_item WHERE organization_id = %s "
                    "AND id >= %s AND platform_id LIKE 'arrival-%%'",
                    [organization, low],
                ).fetchall()
                pending_ids = [row[0] for row in rows if row[2] == "new"]
                for _id, platform_id, state in rows:
                    if state != "new":
                        judged_at.setdefault(platform_id, now)
                if pending_ids:
                    low = min(pending_ids)
                elif rows:
                    low = max(row[0] for row in rows) + 1
                if now - last_sample >= 1.0:
                    last_sample = now
                    waiting_max = max(waiting_max, len(pending_ids))
                    queue_max = max(queue_max, int(broker.llen(FAST_QUEUE_NAME)))
                    _note_peaks(workers, peaks)
                if producer.poll() is not None and len(judged_at) >= rate * seconds:
                    break
                time.sleep(LATENCY_POLL_SECONDS)
        producer.wait(60)
        if producer.returncode != 0:
            raise DistributedBenchError(
                f"the arrivals' producer failed (see {workdir / f'{slug}-producer.log'})"
            )
    finally:
        _stop(workers)
    stored = _arrival_times(log)
    latencies = [judged_at[key] - moment for key, moment in stored.items() if key in judged_at]
    from beffroi.bench import _percentiles

    return {
        "rate_per_second": rate,
        "seconds": seconds,
        "fast_workers": fast_workers,
        "slow_workers": 1,
        "arrived": len(stored),
        "judged": len(latencies),
        "arrival_to_judgement": _percentiles([max(0.0, value) for value in latencies])
        if latencies
        else {},
        "left_new": counter.left(slug),
        "decided_twice": counter.decided_twice(slug),
        "failed_jobs": counter.failed_jobs(slug),
        "veille_scans_done": counter.scans_done(slug),
        "max_items_waiting": waiting_max,
        "max_fast_queue_messages": queue_max,
        "peak_rss_kib_per_process": max(peaks.values(), default=0),
        "latency_resolution_ms": int(LATENCY_POLL_SECONDS * 1000),
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
    arrival_rate: int = 0,
    arrival_seconds: int = 300,
) -> dict[str, Any]:
    """Measure each configuration (and the embedded default) on ``items`` comments; with
    ``arrival_rate``, instead, the time from arrival to judgement of comments arriving at
    that rate for ``arrival_seconds``, judged by the first configuration's worker processes
    while a slow worker runs the scans."""
    if arrival_rate < 0 or arrival_seconds < 1:
        raise DistributedBenchError("the arrival rate and duration must be positive")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise DistributedBenchError(f"--database-url must be a PostgreSQL URL, not {database_url}")
    if not _reachable(database_url):
        raise DistributedBenchError(f"PostgreSQL is not reachable at {database_url}")
    if not broker_url.startswith(("redis://", "rediss://")):
        raise DistributedBenchError(f"--broker-url must be a Redis URL, not {broker_url}")
    number = urlsplit(broker_url).path.strip("/") or "0"
    if not number.isdigit() or int(number) > 14:
        raise DistributedBenchError(
            f"--broker-url must name a Redis database from 0 to 14, not {broker_url}: the "
            "bench empties it and the next one"
        )
    if not _reachable(broker_url):
        raise DistributedBenchError(f"Redis is not reachable at {broker_url}")
    import redis

    workdir = Path(tempfile.mkdtemp(prefix="beffroi-bench-distributed-"))
    texts = comments(items) if not arrival_rate else []
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
    if arrival_rate:
        embedded = False
        figures["items"] = arrival_rate * arrival_seconds
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
            if arrival_rate:
                figures["arrivals"] = _measure_arrivals(
                    env,
                    scratch,
                    arrival_rate,
                    arrival_seconds,
                    configurations[0].processes,
                    workdir,
                    step,
                )
                configurations = ()
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


if __name__ == "__main__":  # the arrivals' producer, started by :func:`_measure_arrivals`
    if len(sys.argv) != 6 or sys.argv[1] != "produce":
        sys.exit("usage: python -m beffroi.bench_distributed produce SLUG RATE SECONDS LOG")
    produce_arrivals(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
