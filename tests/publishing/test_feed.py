"""The calendar feed: an iCalendar file of the scheduled and published posts and the periods
without publishing, reached by a signed address that a new one revokes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import signing
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.publishing import feed
from beffroi.publishing.models import PauseWindow, Post, PostVariant, PublishingSettings

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def make_post(org: Any, title: str, at: datetime, state: str, source: Any = None) -> Post:
    post = Post.objects.create(
        organization=org, title=title, state=state, scheduled_at=at, content_hash="c"
    )
    if source is not None:
        PostVariant.objects.create(post=post, source=source, text="Le texte ne sort jamais")
    if state == Post.State.PUBLISHED:
        post.published_at = at
        post.save(update_fields=["published_at"])
    return post


def read(client: Any, url: str) -> icalendar.Calendar:
    response = client.get(url.removeprefix("http://testserver"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events(calendar: icalendar.Calendar) -> dict[str, Any]:
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.BEFFROI_PUBLIC_URL = "http://testserver"


def test_the_feed_lists_scheduled_and_published_posts_and_windows(
    desk: Any, client: Any, other_org: Any
) -> None:
    now = timezone.now()
    coming = make_post(
        desk.org, "Conseil municipal", now + timedelta(days=3), "scheduled", desk.page
    )
    out = make_post(desk.org, "Vœux du maire", now - timedelta(days=2), "published", desk.page)
    draft = make_post(desk.org, "Brouillon", now + timedelta(days=1), "draft")
    too_far = make_post(desk.org, "Dans un an", now + timedelta(days=365), "scheduled")
    too_old = make_post(desk.org, "Il y a deux mois", now - timedelta(days=60), "published")
    foreign = make_post(other_org, "Ailleurs", now + timedelta(days=3), "scheduled")
    reserve_day = timezone.localtime(now, PARIS).date() + timedelta(days=10)
    reserve = PauseWindow.objects.create(
        organization=desk.org,
        name="Réserve électorale",
        starts_at=datetime.combine(reserve_day, datetime.min.time(), tzinfo=PARIS),
        ends_at=datetime.combine(
            reserve_day + timedelta(days=2), datetime.min.time(), tzinfo=PARIS
        ),
    )
    evening = PauseWindow.objects.create(
        organization=desk.org,
        name="Deuil",
        starts_at=now + timedelta(days=20, hours=2),
        ends_at=now + timedelta(days=20, hours=5),
    )
    calendar = read(client, feed.feed_url(desk.org))  # no login: the token is the key
    found = events(calendar)
    host = "testserver"
    assert set(found) == {
        f"post-{coming.pk}@{host}",
        f"post-{out.pk}@{host}",
        f"window-{reserve.pk}@{host}",
        f"window-{evening.pk}@{host}",
    }
    assert not {draft.pk, too_far.pk, too_old.pk, foreign.pk} & {
        int(uid.split("@")[0].removeprefix("post-")) for uid in found if uid.startswith("post-")
    }
    event = found[f"post-{coming.pk}@{host}"]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None and start.utcoffset() == timedelta(0)  # in UTC
    assert start == coming.scheduled_at.replace(microsecond=0)  # iCalendar keeps seconds
    assert event.decoded("dtend") - start == timedelta(minutes=15)
    assert str(event["summary"]) == "Conseil municipal (Scheduled)"
    assert str(found[f"post-{out.pk}@{host}"]["summary"]) == "Vœux du maire (Published)"
    body = calendar.to_ical().decode()
    assert "Le texte ne sort jamais" not in body  # never the post's text
    assert desk.author.username not in body
    # A window from midnight to midnight is an all-day event; another keeps its hours.
    whole_days = found[f"window-{reserve.pk}@{host}"]
    assert whole_days.decoded("dtstart") == reserve_day
    assert whole_days.decoded("dtend") == reserve_day + timedelta(days=2)
    assert not isinstance(whole_days.decoded("dtstart"), datetime)
    assert str(whole_days["summary"]) == "Réserve électorale: nothing is published"
    timed = found[f"window-{evening.pk}@{host}"]
    assert isinstance(timed.decoded("dtstart"), datetime)
    assert timed.decoded("dtend") - timed.decoded("dtstart") == timedelta(hours=3)


def test_a_forged_or_revoked_address_is_not_found(desk: Any, client: Any) -> None:
    url = feed.feed_url(desk.org)
    assert client.get(url.removeprefix("http://testserver")).status_code == 200
    forged = signing.Signer(salt="another.salt").sign_object({"org": desk.org.pk, "v": 1})
    assert client.get(f"/p/calendar/{forged}.ics").status_code == 404
    assert client.get("/p/calendar/not-a-token.ics").status_code == 404
    tampered = url.removeprefix("http://testserver").replace(".ics", "x.ics")
    assert client.get(tampered).status_code == 404
    # A token of an organization without publishing settings, or of a version never made.
    ahead = signing.Signer(salt=feed.SALT).sign_object({"org": desk.org.pk, "v": 2})
    assert client.get(f"/p/calendar/{ahead}.ics").status_code == 404
    feed.rotate_calendar_feed(desk.actor(desk.admin), desk.org)
    assert client.get(url.removeprefix("http://testserver")).status_code == 404  # the old one
    assert client.get(f"/p/calendar/{ahead}.ics").status_code == 200  # the new version's


def test_the_address_does_not_change_with_time(desk: Any, monkeypatch: Any) -> None:
    # A subscription must keep working: the address given out today is the one shown later.
    earlier = feed.feed_url(desk.org)
    later = time.time() + 86_400 * 30 + 7
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert feed.feed_url(desk.org) == earlier


def test_rotating_changes_the_address_and_is_audited(desk: Any) -> None:
    before = feed.feed_url(desk.org)
    feed.rotate_calendar_feed(desk.actor(desk.admin), desk.org)
    after = feed.feed_url(desk.org)
    assert after != before
    assert feed.organization_of_token(after.rsplit("/", 1)[1].removesuffix(".ics")) == desk.org
    assert feed.organization_of_token(before.rsplit("/", 1)[1].removesuffix(".ics")) is None
    assert PublishingSettings.objects.get(organization=desk.org).calendar_feed_version == 2
    event = AuditEvent.objects.get(action="publishing.settings")
    assert event.actor == desk.admin and event.organization == desk.org
    assert event.before == {"calendar_feed_version": 1}
    assert event.after == {"calendar_feed_version": 2}


def test_the_feed_page_shows_the_address_to_administrators_only(
    desk: Any, verified_client: Any
) -> None:
    url = f"/o/{desk.org.slug}/publishing/calendar/feed/"
    assert verified_client(desk.author).get(url).status_code == 403
    assert verified_client(desk.author).post(url).status_code == 403
    client = verified_client(desk.admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(url)
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    shown = feed.feed_url(desk.org)
    assert shown in page.content.decode()
    regenerated = client.post(url, follow=True)
    html = regenerated.content.decode()
    assert "the previous one no longer works" in html
    assert shown not in html and feed.feed_url(desk.org) in html
    assert feed.feed_url(desk.org) != shown


def test_the_feed_is_built_from_the_organization_and_its_moment(desk: Any) -> None:
    # A post at 23:30 UTC (already the 15th in Paris) is written in UTC: calendar
    # applications show it on their own local day.
    post = make_post(
        desk.org, "Minuit passé", datetime(2026, 1, 14, 23, 30, tzinfo=UTC), "scheduled"
    )
    body = feed.calendar_ics(desk.org, datetime(2026, 1, 10, tzinfo=UTC)).decode()
    assert "DTSTART:20260114T233000Z" in body and f"UID:post-{post.pk}@" in body
    assert "X-WR-CALNAME:Ville de Test: publications" in body
