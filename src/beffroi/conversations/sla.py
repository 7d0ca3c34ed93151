"""Response times: which target a conversation's clock counts against now, and its badge
(on time, due soon, breached, paused), in the organization's business hours with French public
holidays (:mod:`beffroi.analysis.business_time`), re-read with the team's calendar when the
conversation changes team.

The running clock's deadline and the instant it turns "due soon" do not depend on the time it
is: they are kept in two columns (``Conversation.due_at``, ``due_soon_at``) by
:func:`refresh_due`, whenever what the clock reads changes, so that "breached" and "due soon"
are SQL filters (:func:`breached_filter`, :func:`due_soon_filter`) instead of a clock read per
conversation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beffroi.analysis.business_time import (
    OFFICE_HOURS,
    BusinessCalendar,
    Hours,
    Pause,
    Sla,
    SlaStatus,
)
from beffroi.conversations.models import Conversation, ResponseTargets, Team
from beffroi.organizations.models import Organization

#: What the clock counts against.
TARGET_LABELS = {
    "first": _("first response"),
    "next": _("next response"),
    "resolution": _("resolution"),
}
STATUS_LABELS = {
    SlaStatus.ON_TIME: _("On time"),
    SlaStatus.DUE_SOON: _("Due soon"),
    SlaStatus.BREACHED: _("Breached"),
    SlaStatus.PAUSED: _("Paused (waiting for the citizen)"),
}
STATUS_BADGES = {
    SlaStatus.ON_TIME: "badge-ok",
    SlaStatus.DUE_SOON: "badge-warn",
    SlaStatus.BREACHED: "badge-error",
    SlaStatus.PAUSED: "badge-info",
}

#: What a conversation's clock reads (with its team's ``always_open``): a change to one of
#: them changes its deadline.
CLOCK_COLUMNS = (
    "organization_id",
    "team",
    "state",
    "opened_at",
    "last_citizen_at",
    "first_response_at",
    "last_response_at",
    "pauses",
)
#: The columns that keep the running clock's deadline (:func:`refresh_due`).
DUE_COLUMNS = ("due_at", "due_soon_at")
#: Conversations whose deadlines are computed again per batch (:func:`refresh_due_of`).
REFRESH_BATCH = 500

_lock = threading.Lock()
#: Calendars keep the years they computed: one per organization settings and team kind.
_calendars: dict[tuple[int, str, bool], BusinessCalendar] = {}


@dataclass(frozen=True)
class Clock:
    target: str  # first, next or resolution
    status: SlaStatus
    deadline: datetime | None
    elapsed: timedelta
    goal: timedelta

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def badge(self) -> str:
        return STATUS_BADGES[self.status]

    @property
    def target_label(self) -> str:
        return str(TARGET_LABELS[self.target])


def targets_of(organization: Organization) -> ResponseTargets:
    return _targets_by_id(organization.pk)


def _targets_by_id(organization_id: int) -> ResponseTargets:
    """:func:`targets_of` without reading the organization itself."""
    found = ResponseTargets.objects.filter(organization_id=organization_id).first()
    return found or ResponseTargets(organization_id=organization_id)


def _targets_reader() -> Callable[[int], ResponseTargets]:
    """Each organization's targets, read once for the conversations of a pass."""
    read: dict[int, ResponseTargets] = {}

    def targets(organization_id: int) -> ResponseTargets:
        found = read.get(organization_id)
        if found is None:
            found = read[organization_id] = _targets_by_id(organization_id)
        return found

    return targets


def _hours(targets: ResponseTargets) -> Hours:
    if not targets.hours:
        return OFFICE_HOURS
    return {
        int(day): tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans)
        for day, spans in targets.hours.items()
    }


def calendar_for(targets: ResponseTargets, always_open: bool = False) -> BusinessCalendar:
    key = (targets.organization_id, str(targets.updated_at), always_open)
    with _lock:
        found = _calendars.get(key)
        if found is None:
            found = BusinessCalendar(
                timezone=targets.timezone,
                hours=_hours(targets),
                subdivision=targets.subdivision or None,
                always_open=always_open,
            )
            _calendars[key] = found
        return found


def _pauses(conversation: Conversation) -> list[Pause]:
    return [
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in (conversation.pauses or [])
    ]


@dataclass(frozen=True)
class _Running:
    """What a live conversation's clock counts: its target, from when, in which calendar."""

    target: str
    start: datetime
    sla: Sla
    calendar: BusinessCalendar
    pauses: list[Pause]

    @property
    def deadline(self) -> datetime | None:
        return self.calendar.deadline(self.start, self.sla.target, self.pauses)

    @property
    def due_soon(self) -> datetime | None:
        # The same product as Sla.status compares with, so the badge turns at this instant.
        due_soon_target = self.sla.target * self.sla.due_soon_share
        return self.calendar.deadline(self.start, due_soon_target, self.pauses)


def _running(conversation: Conversation, targets: ResponseTargets | None) -> _Running | None:
    """The first response until the organization answered, the next response while the
    citizen's last message waits, else the resolution; none once resolved or closed."""
    if not conversation.is_live:
        return None
    targets = targets or _targets_by_id(conversation.organization_id)
    team = conversation.team
    calendar = calendar_for(targets, bool(team and team.always_open))
    if conversation.first_response_at is None:
        name, start, hours = "first", conversation.opened_at, targets.first_response_hours
    elif (
        conversation.last_response_at
        and conversation.last_citizen_at > conversation.last_response_at
    ):
        name, start, hours = "next", conversation.last_citizen_at, targets.next_response_hours
    else:
        name, start, hours = "resolution", conversation.opened_at, targets.resolution_hours
    sla = Sla(timedelta(hours=hours), due_soon_share=targets.due_soon_share)
    return _Running(name, start, sla, calendar, _pauses(conversation))


def clock(
    conversation: Conversation, now: datetime | None = None, targets: ResponseTargets | None = None
) -> Clock | None:
    """The conversation's clock now (see :func:`_running` for its target); none once
    resolved or closed."""
    running = _running(conversation, targets)
    if running is None:
        return None
    now = now or timezone.now()
    pauses = running.pauses
    elapsed = running.calendar.elapsed(running.start, now, pauses)
    paused = bool(pauses and pauses[-1][1] is None)
    return Clock(
        running.target,
        running.sla.status(elapsed, paused=paused),
        running.deadline,
        elapsed,
        running.sla.target,
    )


def due_times(
    conversation: Conversation, targets: ResponseTargets | None = None
) -> tuple[datetime | None, datetime | None]:
    """The running clock's deadline (``clock(...).deadline``) and the instant its badge turns
    "due soon"; both ``None`` when no deadline is known: resolved, closed, or held by a pause
    that began before it (a pause begun after the deadline does not hide the breach)."""
    running = _running(conversation, targets)
    deadline = running.deadline if running is not None else None
    if running is None or deadline is None:
        return None, None
    return deadline, running.due_soon


def refresh_due(conversation: Conversation, targets: ResponseTargets | None = None) -> bool:
    """Set ``due_at`` and ``due_soon_at`` from what the clock reads now (not saved); returns
    whether they changed. Called before every save of a conversation (the ``pre_save``
    receiver in ``apps.py``), and by whatever writes conversations without saving them."""
    due_at, due_soon_at = due_times(conversation, targets)
    if (conversation.due_at, conversation.due_soon_at) == (due_at, due_soon_at):
        return False
    conversation.due_at, conversation.due_soon_at = due_at, due_soon_at
    return True


def refresh_due_of(conversations: QuerySet[Conversation]) -> int:
    """Compute again the deadlines of ``conversations`` (the live ones among them), batch by
    batch in primary-key order, each organization's targets read once a batch; writes only
    those that changed and returns how many did."""
    live = (
        conversations.exclude(state__in=[Conversation.State.RESOLVED, Conversation.State.CLOSED])
        .select_related(None)
        .select_related("team")
        .only(*CLOCK_COLUMNS, *DUE_COLUMNS)
        .order_by("pk")
    )
    changed = 0
    last = 0
    while True:
        batch = list(live.filter(pk__gt=last)[:REFRESH_BATCH])
        if not batch:
            return changed
        last = batch[-1].pk
        # Read again per batch: targets changed during a long pass apply to the next batches.
        targets = _targets_reader()
        stale = [
            conversation
            for conversation in batch
            if refresh_due(conversation, targets(conversation.organization_id))
        ]
        # bulk_update saves nothing else and sends no pre_save: the values are computed here.
        Conversation.objects.bulk_update(stale, DUE_COLUMNS)
        changed += len(stale)


def breached_filter(now: datetime) -> Q:
    """The conversations whose running clock is breached at ``now`` (``due_at`` is null when
    none runs). ``due_soon_at <= due_at`` always: the redundant bound lets the
    (organization, due_soon_at) index find them."""
    return Q(due_at__lte=now, due_soon_at__lte=now)


def due_soon_filter(now: datetime) -> Q:
    """The conversations whose running clock is due soon at ``now``: past the warning share of
    the target, not yet breached (a paused one has no ``due_at``)."""
    return Q(due_soon_at__lte=now, due_at__gt=now)


def keep_due(sender: Any, instance: Conversation, raw: bool = False, **kwargs: Any) -> None:
    """``pre_save`` of a conversation: its deadlines follow what its clock reads, whichever
    code saves it. A save limited to some fields (``update_fields``) that changes the clock
    without naming the deadlines has them written beside it."""
    if raw:  # a fixture is loaded as written
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not set(update_fields) & _CLOCK_FIELDS:
        return
    refresh_due(instance)
    if update_fields is not None and not set(DUE_COLUMNS) <= set(update_fields):
        Conversation.objects.filter(pk=instance.pk).update(
            due_at=instance.due_at, due_soon_at=instance.due_soon_at
        )


# Field names and attribute names: ``update_fields`` may carry either.
_CLOCK_FIELDS = frozenset(CLOCK_COLUMNS) | {"organization", "team_id"}

#: Up to this many live conversations, a change of targets or of a team's calendar is applied
#: at once; beyond, by a job (``conversations.refresh_due``), so that a form stays quick.
REFRESH_INLINE_LIMIT = 2000
# Set on a team before it is saved: whether it was open day and night.
_ALWAYS_OPEN_BEFORE = "_due_always_open_before"


def refresh_due_now_or_later(
    conversations: QuerySet[Conversation], organization_id: int, why: str
) -> None:
    """Compute again the deadlines of ``conversations`` of one organization now when they are
    few, else ask a job to compute those of the whole organization (``why`` tells one change
    from another, so that a change made while a job runs is not merged into it)."""
    from beffroi.conversations.queue import request_refresh_due

    live = conversations.exclude(state__in=[Conversation.State.RESOLVED, Conversation.State.CLOSED])
    if live[: REFRESH_INLINE_LIMIT + 1].count() <= REFRESH_INLINE_LIMIT:
        refresh_due_of(conversations)
    else:
        request_refresh_due(organization_id, why)


def on_targets_changed(sender: Any, instance: ResponseTargets, **kwargs: Any) -> None:
    """``post_save``/``post_delete`` of an organization's targets: every live conversation's
    deadline is computed again with them (or the defaults)."""
    if kwargs.get("raw"):
        return
    organization_id = instance.organization_id
    refresh_due_now_or_later(
        Conversation.objects.filter(organization_id=organization_id),
        organization_id,
        f"targets:{instance.updated_at.isoformat() if instance.updated_at else 'default'}",
    )


def note_team_calendar(sender: Any, instance: Team, raw: bool = False, **kwargs: Any) -> None:
    """``pre_save`` of a team: remember whether it was open day and night."""
    before = None
    if not raw and instance.pk is not None:
        before = Team.objects.filter(pk=instance.pk).values_list("always_open", flat=True).first()
    setattr(instance, _ALWAYS_OPEN_BEFORE, before)


def on_team_saved(sender: Any, instance: Team, created: bool = False, **kwargs: Any) -> None:
    """``post_save`` of a team: its conversations' deadlines follow its new calendar."""
    before = getattr(instance, _ALWAYS_OPEN_BEFORE, None)
    if created or before is None or before == instance.always_open:
        return
    refresh_due_now_or_later(
        Conversation.objects.filter(team_id=instance.pk),
        instance.organization_id,
        f"team:{instance.pk}:{instance.always_open}",
    )


def on_team_deleted(sender: Any, instance: Team, **kwargs: Any) -> None:
    """``post_delete`` of a team open day and night: its conversations, now without a team
    (set to null in SQL, without saving them), count in the organization's hours again."""
    if not instance.always_open:
        return
    refresh_due_now_or_later(
        Conversation.objects.filter(organization_id=instance.organization_id, team=None),
        instance.organization_id,
        f"team-deleted:{instance.pk}",
    )


def clocks(conversations: Iterable[Conversation], now: datetime | None = None) -> dict[int, Clock]:
    """The clocks of many conversations (one organization's targets read once each)."""
    now = now or timezone.now()
    targets = _targets_reader()
    found: dict[int, Clock] = {}
    for conversation in conversations:
        running = clock(conversation, now, targets(conversation.organization_id))
        if running is not None:
            found[conversation.pk] = running
    return found


def _hours_per_open_day(targets: ResponseTargets) -> float:
    days = [
        sum(
            (datetime.combine(datetime.min, end) - datetime.combine(datetime.min, start)).seconds
            / 3600
            or 24.0
            for start, end in spans
        )
        for spans in _hours(targets).values()
        if spans
    ]
    return sum(days) / len(days) if days else 8.0


def resolution_delay(targets: ResponseTargets, language: str) -> str:
    """The resolution target as a citizen reads it, in business days ("5 jours ouvrés"), for
    the {délai} of a saved reply in ``language``."""
    days = max(1, round(targets.resolution_hours / _hours_per_open_day(targets)))
    if language.startswith("fr"):
        return f"{days} jour ouvré" if days == 1 else f"{days} jours ouvrés"
    return f"{days} business day" if days == 1 else f"{days} business days"
