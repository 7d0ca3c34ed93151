"""Shorter periods and leases than production's for the publishing race and crash tests.

Worker processes load this module through ``BEFFROI_TASK_MODULES`` (after the apps' own
``tasks`` modules) and apply what the environment asks; the test process applies the same
through ``monkeypatch`` so that other tests keep production's values.
"""

from __future__ import annotations

import dataclasses
import os

from beffroi.jobs import engine
from beffroi.publishing import tasks  # noqa: F401  (registers what this module changes)

RELEASE = "publishing.release_due"
PUBLISH = "publishing.publish_variant"
#: Environment of a worker process: seconds between two releases of due posts, and the
#: lease of a publishing job (how long a killed worker's job waits to be taken again).
RELEASE_EVERY_ENV = "BEFFROI_TEST_RELEASE_EVERY_SECONDS"
PUBLISH_LEASE_ENV = "BEFFROI_TEST_PUBLISH_LEASE_SECONDS"
MODULE = __name__


def release_every(seconds: int) -> engine.PeriodicSpec:
    return dataclasses.replace(engine.PERIODIC[RELEASE], every_seconds=seconds)


def publish_lease(seconds: int) -> engine.TaskSpec:
    return dataclasses.replace(engine.TASKS[PUBLISH], lease_seconds=seconds)


def worker_env(
    *, release_seconds: int | None = None, lease_seconds: int | None = None
) -> dict[str, str]:
    """The environment that makes a worker process load this module with these values."""
    env = {"BEFFROI_TASK_MODULES": MODULE}
    if release_seconds is not None:
        env[RELEASE_EVERY_ENV] = str(release_seconds)
    if lease_seconds is not None:
        env[PUBLISH_LEASE_ENV] = str(lease_seconds)
    return env


if os.environ.get(RELEASE_EVERY_ENV):
    engine.PERIODIC[RELEASE] = release_every(int(os.environ[RELEASE_EVERY_ENV]))
if os.environ.get(PUBLISH_LEASE_ENV):
    engine.TASKS[PUBLISH] = publish_lease(int(os.environ[PUBLISH_LEASE_ENV]))
