"""Response times: which target a conversation's clock counts against now, and its badge
(on time, due soon, breached, paused), in the organization's business hours with French public
holidays (:mod:`beffroi.analysis.business_time`), re-read with the team's calendar when the
conversation changes team."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beffroi.analysis.business_time import (
    OFFICE_HOURS,
    BusinessCalendar,
    Hours,
    Sla,
    SlaStatus,
)
from beffroi.conversations.models import Conversation, ResponseTargets
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
    found = ResponseTargets.objects.filter(organization=organization).first()
    return found or ResponseTargets(organization=organization)


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


def _pauses(conversation: Conversation) -> list[tuple[datetime, datetime | None]]:
    return [
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in (conversation.pauses or [])
    ]


def clock(
    conversation: Conversation, now: datetime | None = None, targets: ResponseTargets | None = None
) -> Clock | None:
    """The conversation's clock now: the first response until the organization answered,
    the next response while the citizen's last message waits, else the resolution; none
    once resolved or closed."""
    if not conversation.is_live:
        return None
    now = now or timezone.now()
    targets = targets or targets_of(conversation.organization)
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
    goal = timedelta(hours=hours)
    sla = Sla(goal, due_soon_share=targets.due_soon_share)
    pauses = _pauses(conversation)
    elapsed = calendar.elapsed(start, now, pauses)
    paused = bool(pauses and pauses[-1][1] is None)
    return Clock(
        name,
        sla.status(elapsed, paused=paused),
        calendar.deadline(start, goal, pauses),
        elapsed,
        goal,
    )


def clocks(conversations: Iterable[Conversation], now: datetime | None = None) -> dict[int, Clock]:
    """The clocks of many conversations (one organization's targets read once each)."""
    now = now or timezone.now()
    read: dict[int, ResponseTargets] = {}
    found: dict[int, Clock] = {}
    for conversation in conversations:
        targets = read.get(conversation.organization_id)
        if targets is None:
            targets = read[conversation.organization_id] = targets_of(conversation.organization)
        running = clock(conversation, now, targets)
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
