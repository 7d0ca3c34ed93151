"""The Celery application for the distributed mode (``BEFFROI_BROKER_URL``).

Celery only carries job ids; :func:`beffroi.jobs.engine.run_job` does the work, so the
embedded and distributed modes run exactly the same code.
"""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
django.setup()

from django.conf import settings  # noqa: E402

from beffroi.jobs import engine  # noqa: E402

_APPS: dict[str, Celery] = {}


def celery_app(broker_url: str) -> Celery:
    """One configured Celery application per broker URL (the worker uses the settings' one)."""
    if broker_url not in _APPS:
        application = Celery("beffroi", broker=broker_url)
        application.conf.update(
            task_acks_late=True,  # a job's message is acknowledged only once it ran
            task_reject_on_worker_lost=True,  # a killed worker's message goes back to the queue
            worker_prefetch_multiplier=1,
            task_default_queue=engine.FAST_QUEUE,
            # A message taken by a worker that died goes back to the queue once this has
            # passed: after the longest lease of any task, when the sweeper would hand the
            # job out again anyway (a redelivered id of a running job is skipped).
            broker_transport_options={"visibility_timeout": _visibility_timeout()},
            broker_connection_retry_on_startup=True,
            worker_hijack_root_logger=False,
            task_ignore_result=True,
        )
        application.task(name="beffroi.run_job")(run_job_task)
        _APPS[broker_url] = application
    return _APPS[broker_url]


#: Celery's own default for Redis: never less, or a job delayed longer (a rate limit's
#: wait, held by a worker until due) would be handed out again before its time, repeatedly.
CELERY_DEFAULT_VISIBILITY_SECONDS = 3600


def _visibility_timeout() -> int:
    engine.load_tasks()
    longest = max((spec.lease_seconds for spec in engine.TASKS.values()), default=600)
    return max(longest + 60, CELERY_DEFAULT_VISIBILITY_SECONDS)


def run_job_task(job_id: int) -> str:
    return engine.run_job(job_id)


app = celery_app(settings.BEFFROI_BROKER_URL or "memory://")
