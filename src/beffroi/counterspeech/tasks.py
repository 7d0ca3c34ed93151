"""Background tasks of the counter-speech library: reading the sources' pages."""

from __future__ import annotations

from typing import Any

from beffroi.jobs.engine import periodic, task


@task("counterspeech.snapshot_source", lease_seconds=120, max_attempts=1)
def snapshot_source_task(source_id: int) -> dict[str, Any]:
    """Read a source's page and keep its fingerprint. A failure is kept on the source in
    words and read again at the next sweep, not retried at once."""
    from beffroi.counterspeech.services import take_snapshot

    return {"outcome": take_snapshot(source_id)}


@periodic("counterspeech.snapshots_due", every_seconds=6 * 3600)
def snapshots_due() -> int:
    """The sources of approved entries are read again every week, so that a page changed
    since the approval shows (and a page never read is read)."""
    from beffroi.counterspeech.services import snapshots_due as ask

    return ask()
