"""The crisis switch: once a pause is confirmed, nothing more is published.

Two steps on each side make it exact without holding a lock during platform calls:

- a publisher writes and commits its mark (``PostVariant.calling_since``), *then* reads the
  pauses, and calls the platform only if none applies;
- a pause is written and committed, *then* waits for the marks set up to that moment (calls
  that may be under way) to be cleared by their answers; only then is it *confirmed*.

Whatever the interleaving, either the publisher's read sees the pause (and it does not call),
or the pause's wait sees the publisher's mark (and confirms only after that call's answer):
no call reaches a platform after ``confirmed_at``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from beffroi.publishing.models import Pause, PauseWindow, Post, PostVariant

#: How long a pause waits for the calls already under way (the connectors' own timeouts are
#: shorter): past it, the pause is confirmed and says how many were still in flight.
WAIT_FOR_CALLS_SECONDS = 60.0
#: Longer than any platform call lasts (the publishing job's lease): a mark older than this
#: was left by a worker that died.
LONGEST_CALL = 300
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Block:
    """Why a post may not be published now: an active pause or a planned window."""

    pause: Pause | None = None
    window: PauseWindow | None = None

    @property
    def reason(self) -> str:
        if self.pause is not None:
            return self.pause.reason
        assert self.window is not None
        return self.window.reason or self.window.name


def active_pauses(organization_id: int) -> list[Pause]:
    return list(
        Pause.objects.for_org(organization_id)
        .filter(ended_at__isnull=True)
        .select_related("source", "label", "started_by")
    )


def window_at(organization_id: int, at: datetime) -> PauseWindow | None:
    return (
        PauseWindow.objects.for_org(organization_id)
        .filter(starts_at__lte=at, ends_at__gt=at)
        .first()
    )


def block_for(post: Post, at: datetime, source_id: int | None = None) -> Block | None:
    """The pause or window that stops ``post`` (or its variant on ``source_id``) at ``at``."""
    label_ids = set(post.labels.values_list("id", flat=True))
    source_ids = (
        {source_id}
        if source_id is not None
        else set(post.variants.values_list("source_id", flat=True))
    )
    for pause in active_pauses(post.organization_id):
        if (
            pause.scope == Pause.Scope.ORGANIZATION
            or (pause.scope == Pause.Scope.SOURCE and pause.source_id in source_ids)
            or (pause.scope == Pause.Scope.LABEL and pause.label_id in label_ids)
        ):
            return Block(pause=pause)
    window = window_at(post.organization_id, at)
    if window is not None:
        return Block(window=window)
    return None


def calls_under_way(pause: Pause, cutoff: datetime) -> int:
    """Variants the pause stops whose platform call may be under way: marked up to
    ``cutoff`` (a moment after the pause was committed) and not older than a call can last
    (an older mark is a worker that died: it calls nothing any more)."""
    calls = PostVariant.objects.for_org(pause.organization_id).filter(
        calling_since__lte=cutoff, calling_since__gte=cutoff - timedelta(seconds=LONGEST_CALL)
    )
    if pause.scope == Pause.Scope.SOURCE:
        calls = calls.filter(source=pause.source)
    elif pause.scope == Pause.Scope.LABEL:
        calls = calls.filter(post__labels=pause.label)
    return calls.count()


def wait_for_calls(pause: Pause, timeout: float = WAIT_FOR_CALLS_SECONDS) -> int:
    """Wait until the calls that may be under way have their answer; returns how many were
    still in flight when it gave up (0 when all ended). Called once the pause is committed:
    a mark stamped after ``cutoff`` is followed by a read of the pauses that sees it."""
    cutoff = timezone.now()
    deadline = time.monotonic() + timeout
    remaining = calls_under_way(pause, cutoff)
    while remaining and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        remaining = calls_under_way(pause, cutoff)
    return remaining


def windows_overlapping(organization_id: int, start: datetime, end: datetime) -> list[PauseWindow]:
    return list(
        PauseWindow.objects.for_org(organization_id).filter(
            Q(starts_at__lt=end) & Q(ends_at__gt=start)
        )
    )


def now() -> datetime:
    return timezone.now()
