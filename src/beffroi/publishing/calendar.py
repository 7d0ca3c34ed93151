"""The calendar of posts: the days of a month or of a week in the organization's local time
(weeks start on Monday, as in France), each with its posts; the days without any, the posts
close to another on the same account and the periods when nothing is published.

Pure of views: the calendar page, its table and CSV export and the bench read it. The posts
come in one query, with one for their accounts and one for their labels, whatever their
number.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from typing import Literal

from django.utils import timezone
from django.utils.translation import get_language

from beffroi.organizations.models import Organization
from beffroi.publishing import pausing
from beffroi.publishing.models import PauseWindow, Post, PostVariant
from beffroi.sources.forms import platform_label

State = Post.State

#: Posts a day of the month grid shows; the rest are counted, with a link to the day's week.
MONTH_POSTS_PER_DAY = 6
#: Two posts on one account less apart than this are flagged: the second buries the first.
CLOSE_TO_ANOTHER = timedelta(minutes=30)
#: States whose time no longer changes (``services.schedule`` refuses them): not movable.
OUT = (State.PUBLISHING, State.PUBLISHED)
#: States of posts still waiting for their time: those a period without publishing stops.
WAITING = (State.IN_REVIEW, State.APPROVED, State.SCHEDULED)

ViewKind = Literal["month", "week"]


@lru_cache(maxsize=128)
def _platform_label(platform: str, language: str | None) -> str:
    # Naming a platform reads the installed connectors (entry points): once per language.
    return platform_label(platform)


def local_zone(organization: Organization) -> tzinfo:
    """The time zone the organization's people read and enter times in (``TIME_ZONE`` for
    every organization: they have no zone of their own)."""
    return timezone.get_default_timezone()


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def moved_to(moment: datetime, day: date, zone: tzinfo) -> datetime:
    """``moment`` moved to ``day``, at the same local time of day (a drag in the calendar)."""
    return datetime.combine(day, timezone.localtime(moment, zone).time(), tzinfo=zone)


@dataclass(frozen=True)
class Period:
    """What the calendar shows: the weeks of its grid, and the days of the period itself (a
    month's grid begins and ends with days of the months around it)."""

    kind: ViewKind
    weeks: list[list[date]]
    first: date
    last: date
    previous: date
    next: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """From the first day's local midnight to the midnight after the last day."""
        return local_midnight(self.first, zone), local_midnight(self.last + timedelta(days=1), zone)


def month_period(day: date) -> Period:
    first = day.replace(day=1)
    last = first.replace(day=stdlib_calendar.monthrange(first.year, first.month)[1])
    weeks = stdlib_calendar.Calendar(firstweekday=stdlib_calendar.MONDAY).monthdatescalendar(
        first.year, first.month
    )
    previous = (first - timedelta(days=1)).replace(day=1)
    return Period("month", weeks, first, last, previous, last + timedelta(days=1))


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    week = [monday + timedelta(days=n) for n in range(7)]
    return Period(
        "week", [week], monday, week[-1], monday - timedelta(days=7), monday + timedelta(days=7)
    )


@dataclass(frozen=True)
class Filters:
    """What the calendar is narrowed to (the querystring's account, label and campaign)."""

    source_id: int | None = None
    label_id: int | None = None
    campaign: str = ""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    platform: str
    platform_label: str


@dataclass(slots=True)
class Entry:
    """One post on the calendar (the columns it shows, not the model: thousands are read)."""

    pk: int
    title: str
    state: str
    campaign: str
    local: datetime
    accounts: list[Account] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    #: The accounts on which another post is less than :data:`CLOSE_TO_ANOTHER` away.
    close_on: list[str] = field(default_factory=list)
    #: The period without publishing its time falls in.
    window: PauseWindow | None = None

    @property
    def day(self) -> date:
        return self.local.date()

    @property
    def time_label(self) -> str:
        return self.local.strftime("%H:%M")

    @property
    def state_label(self) -> str:
        return str(State(self.state).label)

    @property
    def movable(self) -> bool:
        return self.state not in OUT


@dataclass
class Day:
    date: date
    #: Part of the period shown (a month's grid shows days of the months around it, empty).
    in_period: bool
    today: bool
    entries: list[Entry] = field(default_factory=list)
    windows: list[PauseWindow] = field(default_factory=list)
    #: How many of its posts the grid shows (a month's day shows the first few).
    limit: int | None = None

    @property
    def nothing_planned(self) -> bool:
        return self.in_period and not self.entries

    @property
    def shown(self) -> list[Entry]:
        return self.entries if self.limit is None else self.entries[: self.limit]

    @property
    def more(self) -> int:
        return len(self.entries) - len(self.shown)


@dataclass
class Calendar:
    period: Period
    weeks: list[list[Day]]
    #: The period's posts in time order (the table alternative and the CSV export).
    entries: list[Entry]
    windows: list[PauseWindow]


def calendar_entries(
    organization: Organization,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    filters: Filters = Filters(),
) -> list[Entry]:
    """The posts with a time in ``[start, end)`` with their accounts and labels, in time
    order: three queries however many posts, of the columns the calendar shows only.

    Rows, not model instances: a month of 5,000 posts is read in a few hundredths of a second
    this way, where ``prefetch_related`` builds a queryset per post and relation (about a
    second for the accounts and labels of 5,000 posts).
    """
    posts = Post.objects.for_org(organization).filter(scheduled_at__gte=start, scheduled_at__lt=end)
    # An account and a label appear once per post (unique variant per account, M2M): these
    # joins add no duplicate.
    if filters.source_id is not None:
        posts = posts.filter(variants__source_id=filters.source_id)
    if filters.label_id is not None:
        posts = posts.filter(labels__id=filters.label_id)
    if filters.campaign:
        posts = posts.filter(campaign=filters.campaign)
    entries: dict[int, Entry] = {
        pk: Entry(pk, title, state, campaign, timezone.localtime(at, zone))
        for pk, title, state, campaign, at in posts.order_by("scheduled_at", "id").values_list(
            "id", "title", "state", "campaign", "scheduled_at"
        )
    }
    if not entries:
        return []
    chosen = posts.values("id")
    accounts: dict[int, Account] = {}
    for post_id, source_id, name, platform in (
        PostVariant.objects.for_org(organization)
        .filter(post__in=chosen)
        .order_by("post_id", "id")
        .values_list("post_id", "source_id", "source__name", "source__platform")
    ):
        account = accounts.get(source_id)
        if account is None:
            account = accounts[source_id] = Account(
                source_id, name, platform, _platform_label(platform, get_language())
            )
        entries[post_id].accounts.append(account)
    for post_id, label in (
        Post.labels.through.objects.filter(post__in=chosen)
        .order_by("postlabel__name")
        .values_list("post_id", "postlabel__name")
    ):
        entries[post_id].labels.append(label)
    return list(entries.values())


def _flag_close_posts(entries: list[Entry]) -> None:
    """Flag the posts less than :data:`CLOSE_TO_ANOTHER` from another on the same account."""
    by_account: dict[Account, list[Entry]] = defaultdict(list)
    for entry in entries:
        for account in entry.accounts:
            by_account[account].append(entry)
    for account, timeline in by_account.items():
        timeline.sort(key=lambda entry: entry.local)
        for earlier, later in pairwise(timeline):
            if later.local - earlier.local < CLOSE_TO_ANOTHER:
                for entry in (earlier, later):
                    if account.name not in entry.close_on:
                        entry.close_on.append(account.name)


def _flag_windows(entries: list[Entry], windows: list[PauseWindow]) -> None:
    # As pausing.window_at decides, on the windows already read.
    for window in windows:
        for entry in entries:
            if window.starts_at <= entry.local < window.ends_at and entry.window is None:
                entry.window = window


def calendar_of(
    organization: Organization,
    period: Period,
    now: datetime,
    filters: Filters = Filters(),
) -> Calendar:
    """The calendar of ``period``: its grid of days with their posts and windows; a month's
    day shows its first :data:`MONTH_POSTS_PER_DAY` posts (the week shows them all)."""
    zone = local_zone(organization)
    start, end = period.bounds(zone)
    # The posts just outside the period are read too, only to flag those close to them.
    entries = calendar_entries(
        organization, start - CLOSE_TO_ANOTHER, end + CLOSE_TO_ANOTHER, zone, filters
    )
    _flag_close_posts(entries)
    entries = [entry for entry in entries if entry.day in period]
    windows = pausing.windows_overlapping(organization.pk, start, end)
    _flag_windows(entries, windows)
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.day].append(entry)
    today = timezone.localtime(now, zone).date()
    limit = MONTH_POSTS_PER_DAY if period.kind == "month" else None
    weeks = []
    for week in period.weeks:
        days = []
        for day in week:
            day_start = local_midnight(day, zone)
            day_end = local_midnight(day + timedelta(days=1), zone)
            days.append(
                Day(
                    date=day,
                    in_period=day in period,
                    today=day == today,
                    entries=by_day.get(day, []),
                    windows=[w for w in windows if w.starts_at < day_end and w.ends_at > day_start],
                    limit=limit,
                )
            )
        weeks.append(days)
    return Calendar(period, weeks, entries, windows)


def planned_inside(organization: Organization, start: datetime, end: datetime) -> int:
    """How many posts waiting for their time fall in ``[start, end)`` (a period without
    publishing planned there stops them)."""
    return (
        Post.objects.for_org(organization)
        .filter(state__in=WAITING, scheduled_at__gte=start, scheduled_at__lt=end)
        .count()
    )
