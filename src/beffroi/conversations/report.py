"""The response-time report: how fast the organization answered and resolved the conversations
opened in a period, overall and by team, platform and week.

Times are business time (:mod:`beffroi.conversations.sla`): the organization's opening hours
and public holidays, a team open day and night counting every hour, the clock stopped while
waiting for the citizen. Each measure gives how many conversations got it (answered, resolved),
the median and 90th percentile of the time it took, and the share that got it within the
target, over the conversations whose outcome is known: those that got it, and those still
without it whose target has already passed. A conversation still within its target and not
yet answered is neither a success nor a failure yet, and is left out of the share; so is one
closed without an answer before its target passed (there was nothing to answer).

Plain functions over querysets: the JSON API and the report page read the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from beffroi.conversations.models import Conversation, ResponseTargets
from beffroi.conversations.services import pause_intervals
from beffroi.conversations.sla import calendar_for, targets_of
from beffroi.organizations.models import Organization

#: The period read when none is given: the last 28 days, today included.
DEFAULT_DAYS = 28


def percentile(values: Sequence[timedelta], share: float) -> timedelta | None:
    """The ``share`` percentile of ``values`` by linear interpolation between the two nearest
    ranks (a spreadsheet's PERCENTILE.INC: the median of 1, 2, 3 and 4 hours is 2.5 hours);
    ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass(frozen=True)
class Measure:
    """One conversation's time to a milestone (its first response, its resolution)."""

    #: Business time it took; ``None`` while the milestone is not reached.
    took: timedelta | None
    #: Not reached, and the target has already passed.
    overdue: bool


@dataclass(frozen=True)
class Timing:
    """A milestone's figures over a set of conversations."""

    done: int
    median: timedelta | None
    p90: timedelta | None
    within_target: int
    overdue: int

    @property
    def share_within_target(self) -> float | None:
        """Reached within the target, out of those whose outcome is known."""
        known = self.done + self.overdue
        return self.within_target / known if known else None


@dataclass(frozen=True)
class Figures:
    """The response times of a set of conversations."""

    count: int
    first_response: Timing
    resolution: Timing

    @property
    def answered(self) -> int:
        return self.first_response.done

    @property
    def resolved(self) -> int:
        return self.resolution.done


@dataclass(frozen=True)
class Row:
    """The figures of one team, platform or week."""

    key: str | None
    label: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    since: date
    until: date
    timezone: str
    first_response_target: timedelta
    resolution_target: timedelta
    overall: Figures
    by_team: list[Row]
    by_platform: list[Row]
    by_week: list[Row]


def default_period(targets: ResponseTargets, now: datetime | None = None) -> tuple[date, date]:
    """The last :data:`DEFAULT_DAYS` days, today included, in the organization's time zone."""
    today = (now or timezone.now()).astimezone(ZoneInfo(targets.timezone)).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def period_bounds(targets: ResponseTargets, since: date, until: date) -> tuple[datetime, datetime]:
    """From midnight of ``since`` to midnight after ``until``, in the organization's time zone."""
    zone = ZoneInfo(targets.timezone)
    start = datetime.combine(since, time(0), tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def opened_between(
    conversations: QuerySet[Conversation], targets: ResponseTargets, since: date, until: date
) -> QuerySet[Conversation]:
    """The conversations opened from ``since`` to ``until`` (both days included)."""
    start, end = period_bounds(targets, since, until)
    return conversations.filter(opened_at__gte=start, opened_at__lt=end)


def measure(
    conversation: Conversation, targets: ResponseTargets, now: datetime
) -> tuple[Measure, Measure]:
    """The conversation's first response and resolution, in its team's business time."""
    team = conversation.team
    calendar = calendar_for(targets, bool(team and team.always_open))
    pauses = pause_intervals(conversation)
    opened = conversation.opened_at
    # A conversation closed without a milestone stops its clock when it was closed.
    stopped = conversation.resolved_at or now

    def milestone(reached: datetime | None, target_hours: float) -> Measure:
        if reached is not None:
            return Measure(calendar.elapsed(opened, reached, pauses), False)
        so_far = calendar.elapsed(opened, stopped, pauses)
        return Measure(None, so_far > timedelta(hours=target_hours))

    return (
        milestone(conversation.first_response_at, targets.first_response_hours),
        milestone(conversation.resolved_at, targets.resolution_hours),
    )


def timing(measures: Sequence[Measure], target: timedelta) -> Timing:
    taken = [m.took for m in measures if m.took is not None]
    overdue = sum(1 for m in measures if m.took is None and m.overdue)
    return Timing(
        done=len(taken),
        median=percentile(taken, 0.5),
        p90=percentile(taken, 0.9),
        within_target=sum(1 for took in taken if took <= target),
        overdue=overdue,
    )


def figures(measured: Sequence[tuple[Measure, Measure]], targets: ResponseTargets) -> Figures:
    return Figures(
        count=len(measured),
        first_response=timing(
            [first for first, _ in measured], timedelta(hours=targets.first_response_hours)
        ),
        resolution=timing(
            [resolution for _, resolution in measured], timedelta(hours=targets.resolution_hours)
        ),
    )


def _rows(
    measured: dict[int, tuple[Measure, Measure]],
    conversations: Sequence[Conversation],
    targets: ResponseTargets,
    group: Callable[[Conversation], tuple[str | None, str]],
) -> list[Row]:
    """One row per group, in the order of their keys (no key last)."""
    grouped: dict[str | None, tuple[str, list[tuple[Measure, Measure]]]] = {}
    for conversation in conversations:
        key, label = group(conversation)
        grouped.setdefault(key, (label, []))[1].append(measured[conversation.pk])
    ordered = sorted(grouped, key=lambda key: (key is None, key or ""))
    return [Row(key, grouped[key][0], figures(grouped[key][1], targets)) for key in ordered]


def iso_week(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-W09``: the ISO week of ``moment`` in the organization's time zone."""
    year, week, _day = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def response_time_report(
    organization: Organization,
    since: date | None = None,
    until: date | None = None,
    *,
    now: datetime | None = None,
    conversations: QuerySet[Conversation] | None = None,
) -> Report:
    """The response times of the organization's conversations opened from ``since`` to
    ``until`` (days in its time zone, both included; by default the last 28 days), or of
    ``conversations`` (one of its querysets, already filtered) opened then."""
    now = now or timezone.now()
    targets = targets_of(organization)
    default_since, default_until = default_period(targets, now)
    since = since or (until - timedelta(days=DEFAULT_DAYS - 1) if until else default_since)
    until = until or default_until
    if conversations is None:
        conversations = Conversation.objects.for_org(organization)
    found = list(
        opened_between(conversations.filter(organization=organization), targets, since, until)
        .select_related("team")
        .order_by("opened_at", "pk")
    )
    measured = {conversation.pk: measure(conversation, targets, now) for conversation in found}
    zone = ZoneInfo(targets.timezone)
    return Report(
        since=since,
        until=until,
        timezone=targets.timezone,
        first_response_target=timedelta(hours=targets.first_response_hours),
        resolution_target=timedelta(hours=targets.resolution_hours),
        overall=figures(list(measured.values()), targets),
        by_team=_rows(
            measured,
            found,
            targets,
            lambda c: (c.team.slug, c.team.name) if c.team else (None, ""),
        ),
        by_platform=_rows(measured, found, targets, lambda c: (c.platform, c.platform)),
        by_week=_rows(
            measured,
            found,
            targets,
            lambda c: (iso_week(c.opened_at, zone), iso_week(c.opened_at, zone)),
        ),
    )
