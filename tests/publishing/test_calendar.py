"""The publishing calendar: the month and week grids in local time (weeks from Monday), posts
on their local day, filters, gaps, posts close to another, periods without publishing, the
table and CSV export, moving a post (keyboard, drag and form alike), and its query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.publishing import calendar
from beffroi.publishing.models import PauseWindow, Post, PostLabel, PostVariant

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def make_post(
    desk: Any,
    title: str,
    at: datetime,
    *,
    state: str = Post.State.SCHEDULED,
    accounts: tuple[Any, ...] | None = None,
    labels: tuple[PostLabel, ...] = (),
    campaign: str = "",
    org: Any = None,
) -> Post:
    """A post approved for its content (as the services leave one), with a variant per account."""
    post = Post.objects.create(
        organization=org or desk.org,
        author=desk.author,
        title=title,
        state=state,
        scheduled_at=at,
        campaign=campaign,
        content_hash="c",
        approved_hash="c",
    )
    for account in accounts if accounts is not None else (desk.page,):
        PostVariant.objects.create(post=post, source=account, text="Texte publié")
    post.labels.set(labels)
    return post


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@pytest.fixture
def login(verified_client: Any) -> Any:
    """A client logged in past two-factor, reading the pages in English."""

    def log_in(user: Any) -> Any:
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return log_in


def calendar_url(desk: Any) -> str:
    return f"/o/{desk.org.slug}/publishing/calendar/"


# --- the grid ---------------------------------------------------------------------------------


def test_a_month_starting_on_a_sunday_has_its_weeks_from_monday() -> None:
    period = calendar.month_period(date(2026, 3, 17))  # 1 March 2026 is a Sunday
    assert len(period.weeks) == 6
    assert all(len(week) == 7 for week in period.weeks)
    assert all(week[0].weekday() == 0 for week in period.weeks)  # Mondays
    assert period.weeks[0][0] == date(2026, 2, 23)
    assert period.weeks[0][6] == date(2026, 3, 1)  # the first of the month ends the first week
    assert period.weeks[-1][-1] == date(2026, 4, 5)
    assert (period.first, period.last) == (date(2026, 3, 1), date(2026, 3, 31))
    assert date(2026, 2, 28) not in period and date(2026, 3, 31) in period
    assert (period.previous, period.next) == (date(2026, 2, 1), date(2026, 4, 1))
    # The period's bounds are local midnights (before and after the change to summer time).
    start, end = period.bounds(PARIS)
    assert start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 22, tzinfo=UTC)


def test_a_week_runs_from_monday_to_sunday() -> None:
    period = calendar.week_period(date(2026, 3, 5))  # a Thursday
    assert period.weeks == [[date(2026, 3, 2) + timedelta(days=n) for n in range(7)]]
    assert (period.previous, period.next) == (date(2026, 2, 23), date(2026, 3, 9))


def test_posts_are_on_their_local_day(desk: Any) -> None:
    # 23:30 UTC in winter is 00:30 the next day in Paris.
    late = make_post(desk, "Vœux du maire", datetime(2026, 1, 14, 23, 30, tzinfo=UTC))
    # The last evening of January in UTC is already February in Paris.
    february = make_post(desk, "Février", datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    now = datetime(2026, 1, 10, tzinfo=UTC)
    january = calendar.calendar_of(desk.org, calendar.month_period(date(2026, 1, 1)), now)
    days = {day.date: day for week in january.weeks for day in week}
    assert [entry.pk for entry in days[date(2026, 1, 15)].entries] == [late.pk]
    assert days[date(2026, 1, 14)].entries == []
    assert days[date(2026, 1, 15)].entries[0].time_label == "00:30"
    assert february.pk not in [entry.pk for entry in january.entries]
    next_month = calendar.calendar_of(desk.org, calendar.month_period(date(2026, 2, 1)), now)
    assert [entry.pk for entry in next_month.entries] == [february.pk]
    assert next_month.entries[0].day == date(2026, 2, 1)


def test_the_month_page_shows_posts_gaps_and_states_with_words(desk: Any, login: Any) -> None:
    market = make_post(desk, "Marché de Noël <b>ouvert</b>", paris(2026, 3, 10, 9, 30))
    make_post(desk, "Travaux rue Hoche", paris(2026, 3, 10, 18, 0), state=Post.State.PUBLISHED)
    response = login(desk.author).get(calendar_url(desk) + "?date=2026-03-05")
    assert response.status_code == 200
    html = response.content.decode()
    assert "March 2026" in html
    assert "Marché de Noël &lt;b&gt;ouvert&lt;/b&gt;" in html  # titles escaped
    assert f'href="{reverse("publishing:detail", args=[desk.org.slug, market.pk])}"' in html
    assert "09:30" in html and "18:00" in html
    # The state is said in words (its colour only repeats it), the account by its platform.
    assert "Scheduled" in html and "Published" in html and "Facebook" in html
    # 31 days in March, one with posts: 30 marked as having nothing planned.
    assert html.count("Nothing planned") == 30
    shown = response.context["calendar"]
    (tenth,) = [day for week in shown.weeks for day in week if day.date == date(2026, 3, 10)]
    assert [entry.movable for entry in tenth.entries] == [True, False]
    # A post that cannot move has no move form; one that can has one.
    assert html.count('type="date"') == 1
    assert 'data-movable draggable="true"' in html


def test_a_busy_day_of_the_month_shows_its_first_posts_and_links_to_its_week(
    desk: Any, login: Any
) -> None:
    for n in range(calendar.MONTH_POSTS_PER_DAY + 2):
        make_post(desk, f"Post {n}", paris(2026, 3, 10, 8, 0) + timedelta(hours=n))
    response = login(desk.author).get(calendar_url(desk) + "?date=2026-03-01")
    html = response.content.decode()
    assert f"Post {calendar.MONTH_POSTS_PER_DAY - 1}<" in html
    assert f"Post {calendar.MONTH_POSTS_PER_DAY}<" not in html
    assert "2 more posts on Tuesday 10 March" in html
    assert "?date=2026-03-10&amp;view=week" in html
    # The week shows them all, and so do the table and the export.
    week = login(desk.author).get(calendar_url(desk) + "?view=week&date=2026-03-10")
    assert f"Post {calendar.MONTH_POSTS_PER_DAY + 1}<" in week.content.decode()


def test_filters_by_account_label_and_campaign(desk: Any, login: Any) -> None:
    election = PostLabel.objects.create(organization=desk.org, name="Élections")
    make_post(desk, "Sur la page", paris(2026, 3, 3, 10))
    make_post(desk, "Sur Mastodon", paris(2026, 3, 4, 10), accounts=(desk.mastodon,))
    make_post(desk, "Étiqueté", paris(2026, 3, 5, 10), labels=(election,))
    make_post(desk, "Campagne", paris(2026, 3, 6, 10), campaign="Été 2026")
    client = login(desk.author)

    def titles(query: str) -> list[str]:
        response = client.get(calendar_url(desk) + "?date=2026-03-01&" + query)
        return [entry.title for entry in response.context["calendar"].entries]

    assert titles("") == ["Sur la page", "Sur Mastodon", "Étiqueté", "Campagne"]
    assert titles(f"source={desk.mastodon.pk}") == ["Sur Mastodon"]
    assert titles(f"label={election.pk}") == ["Étiqueté"]
    assert titles("campaign=Été 2026") == ["Campagne"]
    # Another organization's label is no filter (ignored, not an error).
    from beffroi.organizations.models import Organization

    elsewhere = Organization.objects.create(slug="ailleurs", name="Ailleurs")
    foreign = PostLabel.objects.create(organization=elsewhere, name="Élections")
    assert len(titles(f"label={foreign.pk}")) == 4


def test_the_week_view_shows_the_week_only(desk: Any, login: Any) -> None:
    make_post(desk, "Dimanche d'avant", paris(2026, 3, 1, 12))
    make_post(desk, "Lundi", paris(2026, 3, 2, 0, 15))
    make_post(desk, "Dimanche", paris(2026, 3, 8, 23, 45))
    make_post(desk, "Lundi d'après", paris(2026, 3, 9, 8))
    response = login(desk.author).get(calendar_url(desk) + "?view=week&date=2026-03-05")
    html = response.content.decode()
    assert "Week of March 2, 2026" in html
    week = response.context["calendar"].weeks
    assert len(week) == 1 and [day.date.day for day in week[0]] == [2, 3, 4, 5, 6, 7, 8]
    assert [entry.title for entry in response.context["calendar"].entries] == [
        "Lundi",
        "Dimanche",
    ]
    # Previous and next links go a week back and forth; "Today" comes back to this week.
    assert "date=2026-02-23" in html and "date=2026-03-09" in html
    assert f"date={timezone.localdate().isoformat()}" in html


def test_posts_close_on_one_account_are_flagged(desk: Any) -> None:
    first = make_post(desk, "Premier", paris(2026, 3, 10, 10, 0))
    close = make_post(desk, "Vingt minutes après", paris(2026, 3, 10, 10, 20))
    elsewhere = make_post(
        desk, "Autre compte", paris(2026, 3, 10, 10, 10), accounts=(desk.mastodon,)
    )
    later = make_post(desk, "Une heure après", paris(2026, 3, 10, 11, 20))
    # Just outside the month, still close to the first of April's post.
    make_post(desk, "Fin mars", paris(2026, 3, 31, 23, 50))
    april = make_post(desk, "Premier avril", paris(2026, 4, 1, 0, 5))
    shown = calendar.calendar_of(desk.org, calendar.month_period(date(2026, 4, 1)), timezone.now())
    assert [entry.pk for entry in shown.entries] == [april.pk]
    assert shown.entries[0].close_on == ["Page"]
    march = calendar.calendar_of(desk.org, calendar.month_period(date(2026, 3, 1)), timezone.now())
    flags = {entry.pk: entry.close_on for entry in march.entries}
    assert flags[first.pk] == flags[close.pk] == ["Page"]
    assert flags[elsewhere.pk] == [] and flags[later.pk] == []


def test_periods_without_publishing_are_shown_across_their_days(desk: Any, login: Any) -> None:
    PauseWindow.objects.create(
        organization=desk.org,
        name="Réserve électorale",
        starts_at=paris(2026, 3, 14, 0, 0),
        ends_at=paris(2026, 3, 16, 12, 0),
    )
    inside = make_post(desk, "Pendant la réserve", paris(2026, 3, 15, 9))
    outside = make_post(desk, "Après la réserve", paris(2026, 3, 16, 12, 0))
    response = login(desk.author).get(calendar_url(desk) + "?date=2026-03-01")
    html = response.content.decode()
    assert html.count("Réserve électorale: nothing is published") == 3  # 14, 15, 16 March
    days = {day.date: day for week in response.context["calendar"].weeks for day in week}
    assert [w.name for w in days[date(2026, 3, 16)].windows] == ["Réserve électorale"]
    assert days[date(2026, 3, 17)].windows == []
    flags = {e.pk: e.window for e in response.context["calendar"].entries}
    assert flags[inside.pk] is not None and flags[outside.pk] is None
    assert "Inside a period without publishing:" in html


def test_the_table_and_the_csv_export_list_the_posts_shown(desk: Any, login: Any) -> None:
    make_post(desk, "=Formule", paris(2026, 3, 10, 9), campaign="Printemps")
    make_post(desk, "Avril", paris(2026, 4, 2, 9))
    client = login(desk.author)
    table = client.get(calendar_url(desk) + "?view=list&date=2026-03-01").content.decode()
    assert "<table" in table and "=Formule" in table and "Avril" not in table
    assert "Page (Facebook)" in table
    export = client.get(calendar_url(desk) + "?view=list&date=2026-03-01&format=csv")
    assert export["Content-Type"].startswith("text/csv")
    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    lines = body.strip().splitlines()
    assert len(lines) == 2  # the header and March's one post
    assert '"2026-03-10","09:00","\'=Formule","Scheduled","Page (Facebook)"' in lines[1]


# --- moving a post ------------------------------------------------------------------------------


def move_url(desk: Any) -> str:
    return f"/o/{desk.org.slug}/publishing/calendar/move/"


def test_moving_a_post_keeps_its_local_time_of_day(desk: Any, login: Any) -> None:
    # From winter time to summer time (29 March 2026): 10:00 in Paris either way.
    post = make_post(desk, "Conseil municipal", paris(2026, 3, 20, 10, 0))
    assert post.scheduled_at == datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    client = login(desk.author)
    here = calendar_url(desk) + "?date=2026-03-01"
    response = client.post(move_url(desk), {"post": post.pk, "date": "2026-03-31", "next": here})
    assert response.status_code == 302 and response["Location"] == here
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    assert timezone.localtime(post.scheduled_at, PARIS).hour == 10
    assert post.state == Post.State.SCHEDULED
    page = client.get(here).content.decode()
    assert "“Conseil municipal” moved to 31/03/2026 10:00." in page
    # The move is audited by the service.
    from beffroi.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="post.schedule", object_id=str(post.pk)).exists()


def test_a_published_post_does_not_move(desk: Any, login: Any) -> None:
    post = make_post(desk, "Déjà parti", paris(2026, 3, 20, 10), state=Post.State.PUBLISHED)
    client = login(desk.author)
    response = client.post(move_url(desk), {"post": post.pk, "date": "2026-03-25"}, follow=True)
    assert "This post is already out: its time cannot change." in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_at == paris(2026, 3, 20, 10)


def test_moving_needs_publishing_rights_and_the_organization_s_post(
    desk: Any, login: Any, make_user: Any, other_org: Any
) -> None:
    viewer = make_user("lecteur", org=desk.org, role="viewer")
    post = make_post(desk, "Conseil", paris(2026, 3, 20, 10))
    response = login(viewer).post(move_url(desk), {"post": post.pk, "date": "2026-03-25"})
    assert response.status_code == 403
    page = login(viewer).get(calendar_url(desk) + "?date=2026-03-01").content.decode()
    assert "Conseil" in page and "data-movable" not in page and 'type="date"' not in page
    foreign = make_post(desk, "Ailleurs", paris(2026, 3, 20, 10), org=other_org, accounts=())
    client = login(desk.author)
    assert (
        client.post(move_url(desk), {"post": foreign.pk, "date": "2026-03-25"}).status_code == 404
    )
    assert client.post(move_url(desk), {"post": "abc", "date": "2026-03-25"}).status_code == 404
    assert client.get(move_url(desk) + f"?post={post.pk}&date=2026-03-25").status_code == 405
    foreign.refresh_from_db()
    post.refresh_from_db()
    assert foreign.scheduled_at == post.scheduled_at == paris(2026, 3, 20, 10)
    # A date that cannot be read moves nothing.
    response = client.post(move_url(desk), {"post": post.pk, "date": "31/03"}, follow=True)
    assert "Choose the day to move the post to." in response.content.decode()


def test_the_calendar_script_is_on_the_page(desk: Any, login: Any) -> None:
    html = login(desk.author).get(calendar_url(desk)).content.decode()
    assert "beffroi/calendar.js" in html
    assert "data-calendar-moves" in html and 'id="cal-status"' in html


# --- speed --------------------------------------------------------------------------------------


def test_the_month_costs_the_same_queries_with_200_posts(
    desk: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    label = PostLabel.objects.create(organization=desk.org, name="Voirie")
    make_post(desk, "Seul", paris(2026, 3, 1, 9), labels=(label,))
    client = login(desk.author)
    url = calendar_url(desk) + "?date=2026-03-01"
    client.get(url)  # the session's first read is not the page's
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    start = paris(2026, 3, 2, 8)
    for n in range(199):
        make_post(
            desk,
            f"Post {n}",
            start + timedelta(hours=3 * n),
            accounts=(desk.page, desk.mastodon) if n % 2 else (desk.page,),
            labels=(label,) if n % 3 else (),
        )
    with django_assert_max_num_queries(len(few)) as many:
        response = client.get(url)
    assert len(response.context["calendar"].entries) == 200
    # The posts themselves: one query, and one each for their accounts and labels.
    reading = [
        query["sql"]
        for query in many.captured_queries
        if '"publishing_post"."scheduled_at" AS' in query["sql"]
        or 'FROM "publishing_postvariant"' in query["sql"]
        or 'FROM "publishing_post_labels"' in query["sql"]
    ]
    assert len(reading) == 3
