"""The organization dashboard: counters, the daily chart and its table, breakdowns, threads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from tests.web.factories import make_author, make_item

pytestmark = pytest.mark.django_db

DASHBOARD = "/o/ville-test/"
PARIS = ZoneInfo("Europe/Paris")
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _paris(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Paris"


@pytest.fixture
def viewer(member_client: Callable[..., Any]) -> Any:
    return member_client("viewer")


def _source(org: Any, name: str, platform: str, **fields: Any) -> Any:
    from beffroi.sources.models import Source

    return Source.objects.create(organization=org, name=name, platform=platform, **fields)


class TableReader(HTMLParser):
    """The cells of the chart's data table (inside ``details.chart-data``), row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.in_details = False
        self.section = ""
        self.rows: dict[str, list[list[str]]] = {"thead": [], "tbody": [], "tfoot": []}
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details" and ("class", "chart-data") in attrs:
            self.in_details = True
        if not self.in_details:
            return
        if tag in self.rows:
            self.section = tag
        elif tag == "tr":
            self.rows[self.section].append([])
        elif tag in {"td", "th"}:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.in_details = False
        if self.in_details and tag in {"td", "th"} and self.cell is not None:
            self.rows[self.section][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def read_table(html: str) -> dict[str, list[list[str]]]:
    reader = TableReader()
    reader.feed(html)
    return reader.rows


def svg_segments(html: str) -> list[tuple[str, int]]:
    """(series name, value) of each bar segment of the chart, in drawing order."""
    svg = re.search(r'<svg[^>]*class="chart".*?</svg>', html, re.S)
    assert svg, "no chart in the page"
    return [
        (name, int(value))
        for name, value in re.findall(r"<rect [^>]*><title>[^<]* — (.*?): (\d+)</title>", svg[0])
    ]


# --- the numbers, computed at a fixed time ---------------------------------------------------


def test_day_buckets_follow_the_local_time_zone(org: Any, source: Any) -> None:
    """An item at 23:59 Paris time is on that day; one at 00:30 is on the next (UTC differs)."""
    from beffroi.overview.dashboard import build_dashboard

    author = make_author(org, "a")
    now = datetime(2025, 3, 10, 10, 0, tzinfo=PARIS)
    before_midnight = datetime(2025, 3, 9, 23, 59, 30, tzinfo=PARIS)  # 22:59 UTC, 9 March
    after_midnight = datetime(2025, 3, 10, 0, 30, tzinfo=PARIS)  # 23:30 UTC, 9 March
    make_item(source, author, "late", created_at=before_midnight)
    make_item(source, author, "early", created_at=after_midnight)
    make_item(source, author, "early2", created_at=after_midnight + timedelta(minutes=1))
    # The chart starts at local midnight 29 days before today: one second earlier is out.
    first_day = datetime(2025, 2, 9, 0, 0, tzinfo=PARIS)
    make_item(source, author, "first", created_at=first_day)
    make_item(source, author, "too-old", created_at=first_day - timedelta(seconds=1))
    # Dated in the future (a wrong clock): not drawn on any day.
    make_item(source, author, "future", created_at=now + timedelta(days=2))

    chart = build_dashboard(org, now=now).chart
    assert len(chart.days) == 30
    assert chart.days[0] == date(2025, 2, 9) and chart.days[-1] == date(2025, 3, 10)
    per_day = dict(zip(chart.days, chart.series["file"], strict=True))
    assert per_day[date(2025, 3, 9)] == 1
    assert per_day[date(2025, 3, 10)] == 2
    assert per_day[date(2025, 2, 9)] == 1
    assert chart.total == 4


def test_summer_time_midnight(org: Any, source: Any) -> None:
    from beffroi.overview.dashboard import build_dashboard

    author = make_author(org, "a")
    make_item(source, author, "s1", created_at=datetime(2025, 6, 30, 22, 15, tzinfo=UTC))
    make_item(source, author, "s2", created_at=datetime(2025, 6, 30, 21, 45, tzinfo=UTC))
    chart = build_dashboard(org, now=datetime(2025, 7, 1, 12, 0, tzinfo=PARIS)).chart
    per_day = dict(zip(chart.days, chart.series["file"], strict=True))
    assert per_day[date(2025, 7, 1)] == 1  # 00:15 in Paris
    assert per_day[date(2025, 6, 30)] == 1  # 23:45 in Paris


def test_counters_and_trends(org: Any, source: Any) -> None:
    from beffroi.moderation.models import Case
    from beffroi.overview.dashboard import build_dashboard

    author = make_author(org, "a")
    now = datetime(2025, 5, 20, 9, 0, tzinfo=PARIS)
    hours = [1, 5, 23.9, 25, 40, 24 * 3, 24 * 6.9, 24 * 8, 24 * 13.9, 24 * 20]
    for n, h in enumerate(hours):
        make_item(
            source,
            author,
            f"i{n}",
            created_at=now - timedelta(hours=h),
            state="done" if n % 2 else "new",
        )
    old_new = make_item(source, author, "old", created_at=now - timedelta(days=200))
    Case.objects.create(organization=org, item=old_new, state="open")
    Case.objects.create(organization=org, item=old_new, state="assigned", kind="escalation")
    Case.objects.create(organization=org, item=old_new, state="closed")

    counters = build_dashboard(org, now=now).counters
    assert (counters.day.current, counters.day.previous) == (3, 2)
    assert counters.day.change == 1 and counters.day.direction == "up"
    assert counters.day.percent == 50
    assert (counters.week.current, counters.week.previous) == (7, 2)
    # New: items 0, 2, 4, 6, 8 of the list and the old one; cases not closed: 2.
    assert counters.new == 6
    assert counters.open_cases == 2


def test_trend_directions() -> None:
    from beffroi.overview.dashboard import Trend

    assert Trend(2, 5).direction == "down" and Trend(2, 5).magnitude == 3
    assert Trend(2, 5).percent == 60
    assert Trend(4, 4).direction == "flat"
    assert Trend(3, 0).percent is None


def test_kinds_languages_and_platforms(org: Any, source: Any) -> None:
    from beffroi.overview.dashboard import MAX_SERIES, build_dashboard

    author = make_author(org, "a")
    now = timezone.now()
    make_item(source, author, "p", kind="post", created_at=now - timedelta(hours=2))
    make_item(source, author, "c1", created_at=now - timedelta(hours=3))
    make_item(source, author, "c2", language="en", created_at=now - timedelta(hours=4))
    make_item(source, author, "c3", language="", created_at=now - timedelta(hours=5))
    make_item(source, author, "old", kind="message", created_at=now - timedelta(days=45))
    for n in range(MAX_SERIES + 1):  # more platforms than series: the smallest are summed
        other = _source(org, f"S{n}", f"net{n}")
        for k in range(n + 1):
            make_item(other, author, f"n{n}-{k}", created_at=now - timedelta(hours=1))

    with translation.override("en"):
        data = build_dashboard(org, now=now)
    kinds = {share.value: share.count for share in data.kinds}
    assert kinds == {"post": 1, "comment": 3 + sum(range(1, MAX_SERIES + 2))}
    languages = {share.value: share.count for share in data.languages}
    assert languages["en"] == 1 and languages[""] == 1
    assert sum(share.percent for share in data.languages) in {99, 100, 101}
    series = data.chart.series
    assert len(series) == MAX_SERIES
    assert next(iter(series)) == f"net{MAX_SERIES}"  # the biggest first
    assert list(series)[-1] == "Other platforms"
    # Nothing lost: the chart's total is every item of the 30 days.
    assert data.chart.total == 4 + sum(range(1, MAX_SERIES + 2))


def test_busy_threads(org: Any, source: Any) -> None:
    from beffroi.overview.dashboard import build_dashboard

    author = make_author(org, "a")
    now = timezone.now()
    recent = now - timedelta(days=1)
    # A thread whose root is old: the root is shown, only the week's replies are counted.
    root = make_item(
        source, author, "p1", kind="post", thread_id="p1", text="Travaux rue Haute",
        created_at=now - timedelta(days=20),
    )  # fmt: skip
    for n in range(3):
        make_item(source, author, f"c{n}", thread_id="p1", parent=root, created_at=recent)
    # A root without thread id and its two replies: the key is the root's platform id.
    bare = make_item(source, author, "p2", kind="post", text="Fête", created_at=recent)
    for n in range(2):
        make_item(source, author, f"d{n}", thread_id="p2", created_at=recent)
    # Two comments under a post never collected: shown by the earliest.
    make_item(source, author, "g2", thread_id="ghost", text="second", created_at=recent)
    first = make_item(
        source, author, "g1", thread_id="ghost", text="first",
        created_at=recent - timedelta(hours=1),
    )  # fmt: skip
    # Quiet threads and old activity are left out.
    make_item(source, author, "solo", created_at=recent)
    make_item(source, author, "o1", thread_id="old", created_at=now - timedelta(days=9))
    make_item(source, author, "o2", thread_id="old", created_at=now - timedelta(days=9))
    # Same thread id on another platform: another conversation.
    elsewhere = _source(org, "Masto", "mastodon")
    make_item(elsewhere, author, "x1", thread_id="p1", created_at=recent)

    threads = build_dashboard(org, now=now).threads
    rows = [(t.key, t.count, t.item_pk, t.is_root, t.excerpt) for t in threads]
    assert rows == [
        ("p1", 3, root.pk, True, "Travaux rue Haute"),
        ("p2", 3, bare.pk, True, "Fête"),
        ("ghost", 2, first.pk, False, "first"),
    ]


# --- the page ---------------------------------------------------------------------------------


def test_dashboard_page_shows_the_numbers(org: Any, source: Any, viewer: Any) -> None:
    author = make_author(org, "alice")
    now = timezone.now()
    other = _source(org, "Page", "facebook")
    made = [
        make_item(source, author, "a", created_at=now - timedelta(hours=1), text="Bonjour"),
        make_item(source, author, "b", created_at=now - timedelta(hours=30)),
        make_item(other, author, "c", created_at=now - timedelta(days=3), state="done"),
        make_item(other, author, "d", created_at=now - timedelta(days=3, hours=1)),
        make_item(other, author, "e", created_at=now - timedelta(days=12)),
    ]
    response = viewer.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    counters = response.context["counters"]
    assert (counters.day.current, counters.day.previous) == (1, 1)
    assert (counters.week.current, counters.week.previous) == (4, 1)
    assert counters.new == 4
    assert 'aria-current="page"' in html and ">Tableau de bord<" in html

    # The chart's table holds the chart's numbers, day by day.
    rows = response.context["chart_rows"]
    names = response.context["chart_names"]
    assert names == ["facebook", "file"]
    expected: dict[date, int] = {}
    for item in made:
        day = timezone.localtime(item.created_at, PARIS).date()
        expected[day] = expected.get(day, 0) + 1
    assert {day: total for day, _values, total in rows if total} == expected
    table = read_table(html)
    assert table["thead"][0][1:] == ["facebook", "file", "Total"]
    assert len(table["tbody"]) == 30
    assert table["tfoot"][0][1:] == ["3", "2", "5"]
    from_table = [
        (names[i], int(cell))
        for row in table["tbody"]
        for i, cell in enumerate(row[1:-1])
        if cell != "0"
    ]
    assert svg_segments(html) == from_table
    for row in table["tbody"]:
        assert sum(int(cell) for cell in row[1:-1]) == int(row[-1])

    # The latest items link to their pages; the new-item counter to the filtered inbox.
    for item in made:
        assert f'href="/o/ville-test/items/{item.pk}/"' in html
    assert 'href="/o/ville-test/inbox/?state=new"' in html
    assert 'role="img"' in html and 'aria-labelledby="daily-chart-title daily-chart-desc"' in html


def test_sources_in_error_are_listed_with_their_message(
    org: Any, other_org: Any, source: Any, viewer: Any
) -> None:
    _source(
        org, "Compte Mastodon", "mastodon", status="auth_failed", last_error="Token <b>revoked</b>"
    )
    _source(org, "Flux limité", "mastodon", status="rate_limited", last_error="429 Too Many")
    _source(org, "En panne", "mastodon", status="error", last_error="Timeout", enabled=False)
    _source(org, "Tout va bien", "mastodon", status="ok", last_error="old error text")
    _source(other_org, "Ailleurs", "mastodon", status="error", last_error="not ours")
    response = viewer.get(DASHBOARD)
    html = response.content.decode()
    listed = [s.name for s in response.context["sources_in_error"]]
    assert listed == ["Compte Mastodon", "En panne", "Flux limité"]
    assert "Token &lt;b&gt;revoked&lt;/b&gt;" in html and "429 Too Many" in html
    assert "old error text" not in html and "not ours" not in html and "Ailleurs" not in html
    assert html.count('href="/o/ville-test/sources/"') >= 3
    assert "3 sources demandent votre attention" in html


def test_other_organizations_are_never_counted(
    org: Any, other_org: Any, source: Any, viewer: Any
) -> None:
    from beffroi.moderation.models import Case

    now = timezone.now()
    theirs = _source(other_org, "Theirs", "facebook")
    stranger = make_author(other_org, "stranger")
    for n in range(5):
        item = make_item(
            theirs, stranger, f"t{n}", thread_id="t0", text=f"secret-{n}", language="de",
            created_at=now - timedelta(hours=n + 1),
        )  # fmt: skip
        Case.objects.create(organization=other_org, item=item)
    mine = make_item(source, make_author(org, "me"), "m", created_at=now - timedelta(hours=2))

    response = viewer.get(DASHBOARD)
    html = response.content.decode()
    counters = response.context["counters"]
    assert (counters.day.current, counters.week.current, counters.new) == (1, 1, 1)
    assert counters.open_cases == 0
    assert response.context["chart_names"] == ["file"]
    assert [share.value for share, _bar in response.context["languages"]] == ["fr"]
    assert response.context["threads"] == []
    assert [item.pk for item in response.context["recent"]] == [mine.pk]
    assert "secret-" not in html and "facebook" not in html


def test_hostile_platform_name_is_escaped(org: Any, viewer: Any) -> None:
    hostile = _source(org, "Evil", HOSTILE)
    author = make_author(org, "evil", platform=HOSTILE)
    make_item(hostile, author, "x", created_at=timezone.now() - timedelta(hours=1))
    response = viewer.get(DASHBOARD)
    html = response.content.decode()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert svg_segments(html) == [(HOSTILE.replace("<", "&lt;").replace(">", "&gt;"), 1)]


def test_empty_organization(org: Any, viewer: Any) -> None:
    response = viewer.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aucun élément ces 30 derniers jours." in html
    assert 'class="chart"' not in html
    counters = response.context["counters"]
    assert (counters.day.current, counters.week.current, counters.new) == (0, 0, 0)


def test_english_page(org: Any, source: Any, viewer: Any) -> None:
    make_item(source, make_author(org, "a"), "a", created_at=timezone.now() - timedelta(hours=1))
    viewer.cookies["django_language"] = "en"
    html = viewer.get(DASHBOARD, headers={"accept-language": "en"}).content.decode()
    assert "<h1>Dashboard</h1>" in html
    assert "Items per day, last 30 days" in html


def _fill(org: Any, source: Any, prefix: str, count: int, hours: int) -> None:
    author = make_author(org, prefix)
    now = timezone.now()
    sources = [source] + [_source(org, f"{prefix}S{n}", f"{prefix}net{n}") for n in range(5)]
    for n in range(count):
        make_item(
            sources[n % len(sources)], author, f"{prefix}{n}", thread_id=f"{prefix}t{n % 12}",
            language=["fr", "en", "de", ""][n % 4], created_at=now - timedelta(hours=n * hours),
        )  # fmt: skip
    _source(org, f"{prefix}Broken", "mastodon", status="error", last_error="x")


def test_queries_are_bounded(
    org: Any, source: Any, viewer: Any, django_assert_max_num_queries: Any
) -> None:
    """One query per block, whatever the amount of data (the rest is login, session and the
    menu's counts of open cases and new alerts). A viewer's "needs attention" is two lines:
    the citizens waiting (their count, their clocks and the response-time targets) and the
    open alerts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _fill(org, source, "a", 30, hours=5)
    viewer.get(DASHBOARD)  # the first visit remembers the organization in the session
    with CaptureQueriesContext(connection) as few:
        viewer.get(DASHBOARD)
    _fill(org, source, "b", 120, hours=1)
    with django_assert_max_num_queries(23):
        response = viewer.get(DASHBOARD)
    assert response.status_code == 200
    assert len(response.context["threads"]) == 10
    with CaptureQueriesContext(connection) as many:
        viewer.get(DASHBOARD)
    assert len(many) == len(few)


# --- the way there ----------------------------------------------------------------------------


def test_home_goes_to_the_dashboard(org: Any, viewer: Any) -> None:
    response = viewer.get("/")
    assert response.status_code == 302 and response["Location"] == DASHBOARD


def test_dashboard_is_first_in_the_navigation_for_every_role(
    org: Any, member_client: Callable[..., Any]
) -> None:
    for role in ("admin", "moderator", "analyst", "publisher", "viewer"):
        html = member_client(role).get("/o/ville-test/inbox/").content.decode()
        nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
        assert nav, role
        links = re.findall(r'href="([^"]+)"', nav[0])
        assert links[0] == DASHBOARD, role
        assert f'data-dashboard-url="{DASHBOARD}"' in html


def test_shortcut_help_lists_g_d(org: Any, viewer: Any) -> None:
    html = viewer.get(DASHBOARD).content.decode()
    assert "<kbd>g</kbd> <kbd>d</kbd>" in html
    assert "Aller au tableau de bord" in html
