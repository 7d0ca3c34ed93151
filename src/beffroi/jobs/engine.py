"""The task model: one code path for the embedded and the distributed mode.

``enqueue`` writes a :class:`~beffroi.jobs.models.Job` row and, once the transaction
commits, hands its id to a carrier: Celery (``BEFFROI_BROKER_URL`` set) or the in-process
runner (embedded default). Whoever receives an id calls :func:`run_job`, which *claims* the
row with one conditional UPDATE, so a job runs once even if its id is delivered twice. A
running job holds a lease; if its worker dies, the lease expires and the sweeper hands the
id out again. Failures retry with exponential backoff up to ``max_attempts``; a task raises
:class:`RetryLater` to be tried again at a given time (rate limits) and
:class:`PermanentFailure` to stop at once (revoked credentials).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from beffroi import extensions
from beffroi.jobs.models import Job

log = logging.getLogger(__name__)

LIVE_STATES = (Job.State.PENDING, Job.State.RUNNING)
DATABASE_RETRIES = 8
T = TypeVar("T")


class RetryLater(Exception):
    """Raised by a task to be run again after ``delay`` seconds (counts as an attempt)."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = max(1.0, delay)


class PermanentFailure(Exception):
    """Raised by a task that must not be retried; the message is shown to people."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    lease_seconds: int
    max_attempts: int
    slow: bool = False
    queue: str = "fast"  # "fast" or "slow": the Celery queue (:func:`queue_of`)


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    func: Callable[[], Any]
    every_seconds: int


TASKS: dict[str, TaskSpec] = {}

#: The Celery queues: quick work that people wait for (judging, replies, publishing,
#: deliveries) and long work (scans, syncs, retraining), so that a burst of the second never
#: delays the first; workers may be given one queue each (``beffroi worker --queues``).
FAST_QUEUE = "beffroi.fast"
SLOW_QUEUE = "beffroi.slow"
#: The one queue of earlier versions: still read, so that no message queued before an
#: upgrade is lost.
LEGACY_QUEUE = "beffroi"


def celery_queues(kinds: str) -> list[str]:
    """The Celery queues of ``"fast"``, ``"slow"`` or ``"fast,slow"`` (a worker given the
    fast work also reads :data:`LEGACY_QUEUE`, where earlier versions put every job)."""
    wanted = {kind.strip() for kind in kinds.split(",") if kind.strip()}
    unknown = wanted - {"fast", "slow"}
    if unknown or not wanted:
        raise ValueError(f"queues are 'fast', 'slow' or 'fast,slow', not {kinds!r}")
    queues = []
    if "fast" in wanted:
        queues += [FAST_QUEUE, LEGACY_QUEUE]
    if "slow" in wanted:
        queues.append(SLOW_QUEUE)
    return queues


def queue_of(name: str) -> str:
    """The Celery queue of a task's jobs."""
    spec = TASKS.get(name)
    return SLOW_QUEUE if spec is not None and spec.queue == "slow" else FAST_QUEUE


PERIODIC: dict[str, PeriodicSpec] = {}


def task(
    name: str,
    *,
    lease_seconds: int = 600,
    max_attempts: int = 5,
    slow: bool = False,
    queue: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a task; its payload is passed as keyword arguments.

    ``slow`` tasks (long analyses) are never run by the embedded runner's last thread, which
    stays free for the quick ones (judging a new comment) when there are two or more, and go
    to the slow Celery queue. ``queue="slow"`` sends a task there without the first: bulk
    work that people do not wait on, quick enough for either embedded thread."""
    chosen = queue or ("slow" if slow else "fast")
    if chosen not in ("fast", "slow"):
        raise ValueError(f"task {name}: queue is 'fast' or 'slow', not {queue!r}")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        TASKS[name] = TaskSpec(name, func, lease_seconds, max_attempts, slow, chosen)
        return func

    return decorator


def periodic(name: str, every_seconds: int) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a function the sweeper calls every ``every_seconds`` (it must be idempotent)."""

    def decorator(func: Callable[[], Any]) -> Callable[[], Any]:
        PERIODIC[name] = PeriodicSpec(name, func, every_seconds)
        return func

    return decorator


#: The ``BEFFROI_TASK_MODULES`` value the tasks were last loaded for (None: not yet).
_loaded_for: str | None = None


def load_tasks() -> None:
    """Import every module that declares tasks: the ``tasks`` module of every installed app
    (built-in or a plugin's, found the way Django's admin finds ``admin`` modules), those named
    in ``BEFFROI_TASK_MODULES`` (comma-separated) and the ``beffroi.tasks`` entry points.

    :class:`beffroi.jobs.apps.JobsConfig` calls it once every app is ready. Enqueuing and
    running a job call it too; they look again only when ``BEFFROI_TASK_MODULES`` changed,
    because reading the installed packages' entry points costs milliseconds a call."""
    global _loaded_for
    wanted = os.environ.get("BEFFROI_TASK_MODULES", "")
    if wanted == _loaded_for:
        return
    from importlib import import_module
    from importlib.metadata import entry_points

    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    for module in (m.strip() for m in wanted.split(",")):
        if module:
            import_module(module)
    for ep in entry_points(group=extensions.TASKS):
        import_module(ep.value)
    _loaded_for = wanted


def is_distributed() -> bool:
    return bool(settings.BEFFROI_BROKER_URL)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


# --- enqueueing -----------------------------------------------------------------------------


def enqueue(
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    organization: Any = None,
    dedupe_key: str | None = None,
    delay: float | None = None,
) -> Job:
    """Record a job and hand it to a worker once the surrounding transaction commits.

    With ``dedupe_key``, a job already pending or running under that key is returned instead
    of a new one.
    """
    load_tasks()
    if name not in TASKS:
        raise KeyError(f"Unknown task '{name}'")
    spec = TASKS[name]
    if dedupe_key:
        existing = Job.objects.filter(dedupe_key=dedupe_key, state__in=LIVE_STATES).first()
        if existing is not None:
            return existing
    run_after = timezone.now() + timedelta(seconds=delay) if delay else None
    try:
        with transaction.atomic():
            job = Job.objects.create(
                name=name,
                payload=payload or {},
                organization=organization,
                dedupe_key=dedupe_key,
                run_after=run_after,
                max_attempts=spec.max_attempts,
            )
    except IntegrityError:
        # Another process enqueued the same key between our check and our insert.
        return Job.objects.get(dedupe_key=dedupe_key, state__in=LIVE_STATES)
    job_id = job.pk
    transaction.on_commit(lambda: dispatch(job_id, name, delay))
    return job


def dispatch(job_id: int, name: str, delay: float | None = None) -> None:
    """Hand a job id to the carrier, on the queue of its task ``name``; delivering an id
    twice is harmless."""
    broker_url = settings.BEFFROI_BROKER_URL
    if broker_url:  # is_distributed()
        from beffroi.jobs.celery_app import celery_app

        celery_app(broker_url).send_task(
            "beffroi.run_job", args=[job_id], countdown=delay, queue=queue_of(name)
        )
    else:
        WAKE.set()


# --- running --------------------------------------------------------------------------------


def _claimable(now: Any) -> Q:
    due = Q(run_after__isnull=True) | Q(run_after__lte=now)
    return (Q(state=Job.State.PENDING) & due) | Q(state=Job.State.RUNNING, lease_expires_at__lt=now)


def _through_restarts(what: str, job_id: int, operation: Callable[[], T]) -> T:
    """Run one database operation, again on a fresh connection while the database is
    unreachable for a while (a restart or failover drops every connection)."""
    for attempt in range(DATABASE_RETRIES):
        try:
            return operation()
        except (OperationalError, InterfaceError):
            if attempt == DATABASE_RETRIES - 1 or connection.in_atomic_block:
                raise
            log.warning("database unavailable while %s job %s; retrying", what, job_id)
            connection.close()
            time.sleep(min(0.2 * 2**attempt, 5.0))
    raise AssertionError("unreachable")


def claim(job_id: int, worker: str) -> bool:
    """Take the job if it is due and nobody holds it: one conditional UPDATE, so one winner.

    A claim whose answer was lost with the connection may still have been written: the
    retry recognises it by its exact start time and worker, so the job is not left held by
    nobody until its lease runs out.
    """
    now = timezone.now()
    job = _through_restarts(
        "claiming", job_id, lambda: Job.objects.filter(pk=job_id).values("name").first()
    )
    if job is None:
        return False
    spec = TASKS.get(job["name"])
    lease = spec.lease_seconds if spec else 600
    tries = 0

    def take() -> bool:
        nonlocal tries
        tries += 1
        if tries > 1 and (
            Job.objects.filter(
                pk=job_id, state=Job.State.RUNNING, worker=worker, started_at=now
            ).exists()
        ):
            return True
        updated = (
            Job.objects.filter(pk=job_id)
            .filter(_claimable(now))
            .update(
                state=Job.State.RUNNING,
                worker=worker,
                lease_expires_at=now + timedelta(seconds=lease),
                attempts=F("attempts") + 1,
                started_at=now,
            )
        )
        return updated == 1

    return _through_restarts("claiming", job_id, take)


def _finish(job_id: int, worker: str, **fields: Any) -> bool:
    """Write a job's outcome; only the holder of the lease may.

    The work is done by now, so losing this write would run the job again: a dropped
    connection (database restart, failover) is retried on a fresh one for a while.
    """
    return _through_restarts(
        "finishing",
        job_id,
        lambda: (
            Job.objects.filter(pk=job_id, state=Job.State.RUNNING, worker=worker).update(
                finished_at=timezone.now(), **fields
            )
            == 1
        ),
    )


def run_job(job_id: int, worker: str | None = None) -> str:
    """Claim and run one job; returns ``done``, ``retry``, ``failed`` or ``skipped``."""
    load_tasks()
    worker = worker or worker_name()
    if not claim(job_id, worker):
        return "skipped"
    job = _through_restarts("reading", job_id, lambda: Job.objects.get(pk=job_id))
    spec = TASKS.get(job.name)
    if spec is None:
        _finish(job_id, worker, state=Job.State.FAILED, last_error=f"Unknown task '{job.name}'")
        return "failed"
    try:
        result = spec.func(**job.payload)
    except RetryLater as exc:
        return _retry_or_fail(job, worker, str(exc), exc.delay)
    except PermanentFailure as exc:
        _finish(job_id, worker, state=Job.State.FAILED, last_error=str(exc))
        log.warning("job %s %s failed: %s", job.name, job_id, exc)
        return "failed"
    except Exception as exc:
        log.exception("job %s %s raised", job.name, job_id)
        return _retry_or_fail(job, worker, f"{type(exc).__name__}: {exc}", 2**job.attempts * 5)
    _finish(job_id, worker, state=Job.State.DONE, result=_jsonable(result), last_error="")
    return "done"


def _retry_or_fail(job: Job, worker: str, error: str, delay: float) -> str:
    if job.attempts >= job.max_attempts:
        _finish(job.pk, worker, state=Job.State.FAILED, last_error=error)
        return "failed"
    moved = _finish(
        job.pk,
        worker,
        state=Job.State.PENDING,
        last_error=error,
        run_after=timezone.now() + timedelta(seconds=delay),
        lease_expires_at=None,
    )
    if moved:
        dispatch(job.pk, job.name, delay)
    return "retry"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def next_job_id(exclude: frozenset[str] = frozenset()) -> int | None:
    """The oldest job that is due (or whose worker's lease expired), of a task not in
    ``exclude``."""
    jobs = Job.objects.filter(_claimable(timezone.now()))
    if exclude:
        jobs = jobs.exclude(name__in=exclude)
    return jobs.order_by("created_at", "id").values_list("id", flat=True).first()


def run_pending(
    limit: int | None = None, worker: str | None = None, exclude: frozenset[str] = frozenset()
) -> int:
    """Run due jobs in this thread until none is left (or ``limit``); returns how many ran.
    Jobs of the tasks in ``exclude`` are left to other threads."""
    ran = 0
    worker = worker or worker_name()
    while limit is None or ran < limit:
        job_id = next_job_id(exclude)
        if job_id is None:
            break
        if run_job(job_id, worker) != "skipped":
            ran += 1
    return ran


# --- sweeping and periodic work ---------------------------------------------------------------

_last_periodic: dict[str, float] = {}


def sweep(now_monotonic: float | None = None) -> list[int]:
    """Hand out again jobs whose lease expired or whose delivery may have been lost, and run
    due periodic functions. Idempotent: several sweepers may run at once."""
    load_tasks()
    clock = time.monotonic() if now_monotonic is None else now_monotonic
    for spec in PERIODIC.values():
        if clock - _last_periodic.get(spec.name, -1e18) >= spec.every_seconds:
            _last_periodic[spec.name] = clock
            try:
                spec.func()
            except Exception:
                log.exception("periodic %s failed", spec.name)
    now = timezone.now()
    stale = Q(state=Job.State.RUNNING, lease_expires_at__lt=now) | Q(
        state=Job.State.PENDING, created_at__lt=now - timedelta(seconds=30)
    ) & (Q(run_after__isnull=True) | Q(run_after__lte=now))
    stale_jobs = list(Job.objects.filter(stale).values_list("id", "name")[:1000])
    ids = [job_id for job_id, _name in stale_jobs]
    if is_distributed():
        for job_id, name in stale_jobs:
            dispatch(job_id, name)
    elif ids:
        WAKE.set()
    return ids


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_orphans() -> list[int]:
    """Free at once the jobs held by dead processes of this machine (a restart after a
    crash), instead of waiting for their leases to run out."""
    host = socket.gethostname()
    orphans = []
    running = Job.objects.filter(state=Job.State.RUNNING, worker__startswith=f"{host}:")
    for job_id, worker in running.values_list("id", "worker"):
        parts = worker.split(":")
        if len(parts) >= 2 and parts[1].isdigit() and not _process_alive(int(parts[1])):
            orphans.append(job_id)
    if orphans:
        Job.objects.filter(pk__in=orphans, state=Job.State.RUNNING).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        log.info("released %d job(s) left running by a stopped process", len(orphans))
    return orphans


# --- the embedded runner ----------------------------------------------------------------------

WAKE = threading.Event()


class EmbeddedRunner:
    """Background work inside the web process: threads that claim jobs from the database."""

    def __init__(self, threads: int = 1, poll_seconds: float = 2.0, sweep_seconds: float = 15.0):
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        load_tasks()
        release_orphans()
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop, name=f"beffroi-worker-{index}", daemon=True, args=(index,)
            )
            thread.start()
            self._workers.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        WAKE.set()
        for thread in self._workers:
            thread.join(timeout)

    def _excluded(self, index: int) -> frozenset[str]:
        """The last of two or more threads leaves the slow tasks to the others."""
        if self.threads < 2 or index != self.threads - 1:
            return frozenset()
        return frozenset(spec.name for spec in TASKS.values() if spec.slow)

    def _loop(self, index: int) -> None:
        last_sweep = 0.0
        while not self._stop.is_set():
            try:
                close_old_connections()
                if index == 0 and time.monotonic() - last_sweep >= self.sweep_seconds:
                    last_sweep = time.monotonic()
                    sweep()
                ran = run_pending(limit=50, exclude=self._excluded(index))
            except Exception:
                log.exception("embedded runner error")
                ran = 0
            finally:
                close_old_connections()
            if not ran:
                WAKE.wait(self.poll_seconds)
                WAKE.clear()
