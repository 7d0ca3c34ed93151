"""What the organization dashboard shows. Each block is one database query, scoped to the
organization, aggregated by the database (``Count``, ``TruncDate`` in the organization's
time zone), and written to run the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import CharField, Count, Max, Min, Q, Value
from django.db.models.functions import Coalesce, NullIf, Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.items.filtersets import language_label
from beffroi.items.models import Item
from beffroi.moderation.models import Case
from beffroi.organizations.models import Organization
from beffroi.sources.models import Source

#: Source statuses that need a person: shown as "sources in error".
PROBLEM_STATUSES = (Source.Status.AUTH_FAILED, Source.Status.ERROR, Source.Status.RATE_LIMITED)
CHART_DAYS = 30
#: Platforms drawn as their own series; beyond, the smallest are summed as one "Other".
MAX_SERIES = 7
RECENT_LIMIT = 10
BUSY_THREAD_LIMIT = 10
BUSY_THREAD_DAYS = 7
EXCERPT_CHARS = 200


def organization_timezone(organization: Organization) -> tzinfo:
    """The time zone days are counted in (``settings.TIME_ZONE`` for every organization)."""
    return timezone.get_default_timezone()


@dataclass(frozen=True)
class Trend:
    """A count over a period and over the period before it."""

    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def magnitude(self) -> int:
        return abs(self.change)

    @property
    def direction(self) -> str:
        return "up" if self.change > 0 else "down" if self.change < 0 else "flat"

    @property
    def percent(self) -> int | None:
        """The change in percent of the previous period, or None when it had nothing."""
        if not self.previous:
            return None
        return round(abs(self.change) * 100 / self.previous)


@dataclass(frozen=True)
class Counters:
    day: Trend
    week: Trend
    new: int
    open_cases: int


@dataclass(frozen=True)
class DailyChart:
    """Items per day and platform: ``series[name][i]`` is the count on ``days[i]``."""

    days: list[date]
    series: dict[str, list[int]]

    @property
    def rows(self) -> list[tuple[date, list[int], int]]:
        """One row per day: the date, the value of each series (in order), the day's total."""
        names = list(self.series)
        return [
            (day, values, sum(values))
            for i, day in enumerate(self.days)
            for values in [[self.series[name][i] for name in names]]
        ]

    @property
    def series_totals(self) -> list[int]:
        return [sum(values) for values in self.series.values()]

    @property
    def total(self) -> int:
        return sum(self.series_totals)

    @property
    def busiest(self) -> tuple[date, int] | None:
        best = max(self.rows, key=lambda row: (row[2], row[0]), default=None)
        return (best[0], best[2]) if best and best[2] else None


@dataclass(frozen=True)
class Share:
    """One line of a breakdown: its value, its label, its count and share of the total."""

    value: str
    label: str
    count: int
    percent: int


@dataclass(frozen=True)
class BusyThread:
    platform: str
    key: str
    count: int
    last_at: datetime
    item_pk: int
    excerpt: str
    is_root: bool


@dataclass
class Dashboard:
    now: datetime
    counters: Counters
    sources_in_error: list[Source]
    chart: DailyChart
    kinds: list[Share]
    languages: list[Share]
    recent: list[Item]
    threads: list[BusyThread] = field(default_factory=list)


def _items(organization: Organization) -> Any:
    return Item.objects.for_org(organization)


def counters(organization: Organization, now: datetime) -> Counters:
    """Items in the last 24 h and 7 days with the periods before, new items, open cases."""
    day, week = timedelta(days=1), timedelta(days=7)
    figures = (
        _items(organization)
        .filter(Q(created_at__gt=now - 2 * week) | Q(state=Item.State.NEW))
        .aggregate(
            day=Count("id", filter=Q(created_at__gt=now - day)),
            previous_day=Count(
                "id", filter=Q(created_at__gt=now - 2 * day, created_at__lte=now - day)
            ),
            week=Count("id", filter=Q(created_at__gt=now - week)),
            previous_week=Count(
                "id", filter=Q(created_at__gt=now - 2 * week, created_at__lte=now - week)
            ),
            new=Count("id", filter=Q(state=Item.State.NEW)),
        )
    )
    open_cases = Case.objects.for_org(organization).exclude(state=Case.State.CLOSED).count()
    return Counters(
        day=Trend(figures["day"], figures["previous_day"]),
        week=Trend(figures["week"], figures["previous_week"]),
        new=figures["new"],
        open_cases=open_cases,
    )


def sources_in_error(organization: Organization) -> list[Source]:
    return list(
        Source.objects.for_org(organization).filter(status__in=PROBLEM_STATUSES).order_by("name")
    )


def chart_start(organization: Organization, now: datetime, days: int = CHART_DAYS) -> datetime:
    """Local midnight at the start of the first day of the chart (today is the last day)."""
    zone = organization_timezone(organization)
    today = timezone.localtime(now, zone).date()
    return datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=zone)


def daily_chart(
    organization: Organization, now: datetime, days: int = CHART_DAYS, other_label: str = ""
) -> DailyChart:
    """Items per local day and platform over the last ``days`` days, today included."""
    zone = organization_timezone(organization)
    start = chart_start(organization, now, days)
    day_list = [start.date() + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(day_list)}
    rows = (
        _items(organization)
        .filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day", "platform")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, list[int]] = {}
    for day, platform, n in rows:
        if day in index:  # items dated in the future are left out
            counts.setdefault(platform, [0] * days)[index[day]] += n
    ranked = sorted(counts.items(), key=lambda entry: (-sum(entry[1]), entry[0]))
    if len(ranked) > MAX_SERIES:
        kept, rest = ranked[: MAX_SERIES - 1], ranked[MAX_SERIES - 1 :]
        other = [sum(values[i] for _name, values in rest) for i in range(days)]
        ranked = [*kept, (other_label or _("Other platforms"), other)]
    return DailyChart(days=day_list, series=dict(ranked))


def _shares(pairs: list[tuple[str, str, int]]) -> list[Share]:
    total = sum(n for _value, _label, n in pairs)
    return [
        Share(value, label, n, round(n * 100 / total) if total else 0) for value, label, n in pairs
    ]


def kinds(organization: Organization, since: datetime) -> list[Share]:
    labels = dict(Item.Kind.choices)
    rows = (
        _items(organization)
        .filter(created_at__gte=since)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by("-n", "kind")
    )
    return _shares([(kind, str(labels.get(kind, kind)), n) for kind, n in rows])


def languages(organization: Organization, since: datetime) -> list[Share]:
    rows = (
        _items(organization)
        .filter(created_at__gte=since)
        .values_list("language")
        .annotate(n=Count("id"))
        .order_by("-n", "language")
    )
    return _shares([(code, language_label(code) if code else _("Unknown"), n) for code, n in rows])


def recent_items(organization: Organization, limit: int = RECENT_LIMIT) -> list[Item]:
    return list(
        _items(organization)
        .select_related("author", "source")
        .order_by("-created_at", "-id")[:limit]
    )


def busy_threads(
    organization: Organization,
    now: datetime,
    days: int = BUSY_THREAD_DAYS,
    limit: int = BUSY_THREAD_LIMIT,
) -> list[BusyThread]:
    """The conversations with the most items in the last ``days`` days (two items or more).

    A conversation is the items of one platform sharing a thread id (an item without one is
    its own thread). Each is shown by its root post, or by its earliest item of the period when
    the root was never collected. Two queries: the counts, then the (at most 2 × ``limit``)
    items that stand for the conversations.
    """
    key = Coalesce(NullIf("thread_id", Value("")), "platform_id", output_field=CharField())
    groups = list(
        _items(organization)
        .filter(created_at__gt=now - timedelta(days=days))
        .annotate(key=key)
        .values("platform", "key")
        .annotate(n=Count("id"), last_at=Max("created_at"), first_at=Min("created_at"))
        .filter(n__gte=2)
        .order_by("-n", "-last_at", "platform", "key")[:limit]
    )
    if not groups:
        return []
    wanted = Q()
    for group in groups:
        wanted |= Q(platform=group["platform"], platform_id=group["key"])
        wanted |= Q(
            platform=group["platform"], thread_id=group["key"], created_at=group["first_at"]
        )
    anchors = (
        _items(organization)
        .filter(wanted)
        .annotate(excerpt=Substr("text", 1, EXCERPT_CHARS))
        .values_list("pk", "platform", "platform_id", "thread_id", "excerpt")
        .order_by("created_at", "id")
    )
    roots: dict[tuple[str, str], tuple[int, str]] = {}
    firsts: dict[tuple[str, str], tuple[int, str]] = {}
    for pk, platform, platform_id, thread_id, excerpt in anchors:
        roots.setdefault((platform, platform_id), (pk, excerpt))
        if thread_id:
            firsts.setdefault((platform, thread_id), (pk, excerpt))
    threads = []
    for group in groups:
        root = roots.get((group["platform"], group["key"]))
        anchor = root or firsts.get((group["platform"], group["key"]))
        if anchor is None:  # deleted between the two queries
            continue
        pk, excerpt = anchor
        threads.append(
            BusyThread(
                platform=group["platform"],
                key=group["key"],
                count=group["n"],
                last_at=group["last_at"],
                item_pk=pk,
                excerpt=excerpt,
                is_root=root is not None,
            )
        )
    return threads


def build_dashboard(organization: Organization, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    chart = daily_chart(organization, now)
    since = chart_start(organization, now)
    return Dashboard(
        now=now,
        counters=counters(organization, now),
        sources_in_error=sources_in_error(organization),
        chart=chart,
        kinds=kinds(organization, since),
        languages=languages(organization, since),
        recent=recent_items(organization),
        threads=busy_threads(organization, now),
    )
