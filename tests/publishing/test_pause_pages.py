"""The crisis switch's pages: pausing (reason and confirmation required, administrators only),
the banner every member sees on every page, resuming, and the periods planned without
publishing with the posts they stop."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import RequestFactory
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.publishing import pausing, services
from beffroi.publishing.context_processors import pause_banner
from beffroi.publishing.models import Pause, PauseWindow, Post

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
PROCESSOR = "beffroi.publishing.context_processors.pause_banner"


@pytest.fixture
def login(verified_client: Any) -> Any:
    """A client logged in past two-factor, reading the pages in English."""

    def log_in(user: Any) -> Any:
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return log_in


@pytest.fixture
def with_banner(settings: Any) -> None:
    """The pause banner's context processor, as the settings list it."""
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    if PROCESSOR not in processors:
        settings.TEMPLATES = [
            {
                **settings.TEMPLATES[0],
                "OPTIONS": {
                    **settings.TEMPLATES[0]["OPTIONS"],
                    "context_processors": [*processors, PROCESSOR],
                },
            },
            *settings.TEMPLATES[1:],
        ]


def pause_url(desk: Any) -> str:
    return f"/o/{desk.org.slug}/publishing/pause/"


def pause_everything(desk: Any, reason: str = "Attentat : deuil national") -> Pause:
    return services.pause(desk.actor(desk.admin), desk.org, reason)


# --- pausing ---------------------------------------------------------------------------------


def test_an_administrator_pauses_with_a_reason_and_a_confirmation(desk: Any, login: Any) -> None:
    client = login(desk.admin)
    assert "Pause publishing" in client.get(pause_url(desk)).content.decode()
    missing_reason = client.post(pause_url(desk), {"scope": "organization", "confirm": "on"})
    assert missing_reason.status_code == 200
    assert "This field is required." in missing_reason.content.decode()
    blank_reason = client.post(
        pause_url(desk), {"scope": "organization", "reason": "   ", "confirm": "on"}
    )
    assert blank_reason.status_code == 200
    unconfirmed = client.post(pause_url(desk), {"scope": "organization", "reason": "Crise"})
    assert unconfirmed.status_code == 200
    assert unconfirmed.context["form"].errors["confirm"]
    assert not Pause.objects.exists()
    response = client.post(
        pause_url(desk),
        {"scope": "organization", "reason": "Inondations : tout arrêter", "confirm": "on"},
        follow=True,
    )
    paused = Pause.objects.get()
    assert paused.scope == Pause.Scope.ORGANIZATION and paused.ended_at is None
    assert paused.started_by == desk.admin and paused.confirmed_at is not None
    confirmed = timezone.localtime(paused.confirmed_at).strftime("%d/%m/%Y %H:%M:%S")
    html = response.content.decode()
    assert f"Publishing paused. Confirmed at {confirmed}" in html
    assert "already being sent at that moment" not in html
    assert "Inondations : tout arrêter" in html and "The whole organization" in html
    assert AuditEvent.objects.filter(action="publishing.pause", actor=desk.admin).exists()


def test_pausing_one_account_or_a_label_names_it(desk: Any, login: Any, other_org: Any) -> None:
    from beffroi.publishing.models import PostLabel
    from beffroi.sources.models import Source

    client = login(desk.admin)
    body = {"reason": "Compte piraté", "confirm": "on"}
    unnamed = client.post(pause_url(desk), {**body, "scope": "source"})
    assert unnamed.context["form"].errors["source"] == ["Choose the account to pause."]
    foreign = Source.objects.create(organization=other_org, name="Ailleurs", platform="x")
    elsewhere = client.post(pause_url(desk), {**body, "scope": "source", "source": foreign.pk})
    assert "source" in elsewhere.context["form"].errors
    assert not Pause.objects.exists()
    client.post(pause_url(desk), {**body, "scope": "source", "source": desk.mastodon.pk})
    paused = Pause.objects.get()
    assert (paused.scope, paused.source, paused.label) == ("source", desk.mastodon, None)
    label = PostLabel.objects.create(organization=desk.org, name="Élections")
    # A label's pause ignores an account chosen in passing.
    client.post(
        pause_url(desk),
        {**body, "scope": "label", "label": label.pk, "source": desk.page.pk},
    )
    by_label = Pause.objects.get(scope="label")
    assert (by_label.label, by_label.source) == (label, None)


def test_the_flash_says_how_many_posts_were_being_sent(
    desk: Any, login: Any, monkeypatch: Any
) -> None:
    # Two calls to a platform were still under way when the pause was confirmed.
    monkeypatch.setattr(pausing, "wait_for_calls", lambda pause, timeout: 2)
    response = login(desk.admin).post(
        pause_url(desk),
        {"scope": "organization", "reason": "Crise", "confirm": "on"},
        follow=True,
    )
    html = response.content.decode()
    assert "2 posts were already being sent at that moment" in html
    assert Pause.objects.get().in_flight == 2


def test_a_publisher_sees_the_pause_page_but_cannot_pause(desk: Any, login: Any) -> None:
    client = login(desk.author)
    page = client.get(pause_url(desk))
    assert page.status_code == 200
    assert 'name="reason"' not in page.content.decode()  # no form to pause
    response = client.post(
        pause_url(desk), {"scope": "organization", "reason": "Crise", "confirm": "on"}
    )
    assert response.status_code == 403
    assert not Pause.objects.exists()


# --- the banner ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["admin", "moderator", "analyst", "publisher", "approver", "viewer"]
)
def test_the_banner_shows_on_the_organization_s_pages_for_every_role(
    desk: Any, login: Any, make_user: Any, with_banner: Any, role: str
) -> None:
    member = make_user(f"membre-{role}", org=desk.org, role=role)
    client = login(member)
    calendar = f"/o/{desk.org.slug}/publishing/calendar/"
    assert "Publishing paused:" not in client.get(calendar).content.decode()
    paused = pause_everything(desk, "Deuil <national>")
    html = client.get(calendar).content.decode()
    assert 'role="alert"' in html and "Publishing paused:" in html
    assert "Deuil &lt;national&gt;" in html  # escaped
    assert "by admin" in html
    assert f'href="{pause_url(desk)}"' in html
    services.resume(desk.actor(desk.admin), paused)
    assert "Publishing paused:" not in client.get(calendar).content.decode()


def test_the_banner_is_not_shown_to_another_organization(
    desk: Any, login: Any, make_user: Any, other_org: Any, with_banner: Any
) -> None:
    pause_everything(desk)
    neighbour = make_user("voisin", org=other_org, role="admin")
    html = login(neighbour).get(f"/o/{other_org.slug}/publishing/calendar/").content.decode()
    assert "Publishing paused:" not in html


def test_the_context_processor_reads_the_pauses_once_and_only_when_shown(
    desk: Any, django_assert_num_queries: Any, django_assert_max_num_queries: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.organization = desk.org  # type: ignore[attr-defined]
    assert pause_banner(request) == {}  # not logged in
    request.user = desk.author
    del request.organization  # type: ignore[attr-defined]
    assert pause_banner(request) == {}  # not on an organization's page
    request.organization = desk.org  # type: ignore[attr-defined]
    with django_assert_num_queries(0):
        context = pause_banner(request)  # nothing read until a page shows it
    assert not context["publishing_pauses"]
    for n in range(3):
        services.pause(desk.actor(desk.admin), desk.org, f"Raison {n}", source=desk.page)
    context = pause_banner(request)
    # One query for the pauses (their accounts, labels and who started them included).
    with django_assert_max_num_queries(2):
        shown = [
            (p.reason, p.source.name, p.started_by.username) for p in context["publishing_pauses"]
        ]
    assert sorted(shown) == [(f"Raison {n}", "Page", "admin") for n in range(3)]


# --- resuming ----------------------------------------------------------------------------------


def test_resuming_says_what_happens_to_the_posts_whose_time_passed(
    desk: Any, login: Any, make_user: Any, other_org: Any
) -> None:
    paused = pause_everything(desk)
    url = f"{pause_url(desk)}{paused.pk}/resume/"
    assert login(desk.author).post(url).status_code == 403
    client = login(desk.admin)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    html = response.content.decode()
    assert "Publishing resumed." in html and "“not attempted”" in html
    assert f'href="/o/{desk.org.slug}/publishing/?state=unattempted"' in html
    paused.refresh_from_db()
    assert paused.ended_at is not None and paused.ended_by == desk.admin
    again = client.post(url, follow=True).content.decode()
    assert "This pause has already ended." in again
    assert "Recent pauses" in again
    neighbour = make_user("voisine", org=other_org, role="admin")
    assert (
        login(neighbour)
        .post(f"/o/{other_org.slug}/publishing/pause/{paused.pk}/resume/")
        .status_code
        == 404
    )


# --- periods without publishing -----------------------------------------------------------------


def local_input(moment: datetime) -> str:
    return timezone.localtime(moment, PARIS).strftime("%Y-%m-%dT%H:%M")


def test_planning_a_period_warns_of_the_posts_it_stops(desk: Any, login: Any) -> None:
    start = datetime(2030, 3, 14, 0, 0, tzinfo=PARIS)
    for hours, state in ((9, "scheduled"), (30, "scheduled"), (10, "draft"), (80, "scheduled")):
        Post.objects.create(
            organization=desk.org,
            title="p",
            state=state,
            scheduled_at=start + timedelta(hours=hours),
        )
    create = f"/o/{desk.org.slug}/publishing/windows/new/"
    assert login(desk.author).get(create).status_code == 403
    client = login(desk.admin)  # the same test client, logged in again
    backwards = client.post(
        create,
        {"name": "Réserve", "starts_at": "2030-03-16T00:00", "ends_at": "2030-03-14T00:00"},
    )
    assert "The period must end after it starts." in backwards.content.decode()
    response = client.post(
        create,
        {
            "name": "Réserve électorale",
            "starts_at": "2030-03-14T00:00",
            "ends_at": "2030-03-16T00:00",
            "reason": "Municipales",
        },
        follow=True,
    )
    window = PauseWindow.objects.get()
    # Entered in local time: midnight in Paris is 23:00 UTC the day before (winter).
    assert window.starts_at == start and window.ends_at == start + timedelta(days=2)
    assert window.created_by == desk.admin
    html = response.content.decode()
    # The draft is not planned; the post at 80 hours is after the period.
    assert "2 posts planned in this period will not be published" in html
    assert "Réserve électorale" in html and "Municipales" in html
    edit = f"/o/{desk.org.slug}/publishing/windows/{window.pk}/"
    page = client.get(edit).content.decode()
    assert 'value="2030-03-14T00:00"' in page  # shown back in local time
    assert "2 posts planned in this period will not be published" in page
    client.post(
        edit,
        {
            "name": "Réserve électorale",
            "starts_at": "2030-03-14T00:00",
            "ends_at": "2030-03-17T12:00",
        },
    )
    window.refresh_from_db()
    assert window.ends_at == datetime(2030, 3, 17, 12, 0, tzinfo=PARIS)
    assert "3 posts planned in this period" in client.get(edit).content.decode()
    assert AuditEvent.objects.filter(action="pause_window.save").count() == 2


def test_removing_a_period_is_for_administrators_of_the_organization(
    desk: Any, login: Any, make_user: Any, other_org: Any
) -> None:
    window = PauseWindow.objects.create(
        organization=desk.org,
        name="Réserve",
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    delete = f"/o/{desk.org.slug}/publishing/windows/{window.pk}/delete/"
    assert login(desk.author).post(delete).status_code == 403
    assert "Réserve" in login(desk.author).get(pause_url(desk)).content.decode()
    neighbour = make_user("voisin", org=other_org, role="admin")
    assert (
        login(neighbour)
        .post(f"/o/{other_org.slug}/publishing/windows/{window.pk}/delete/")
        .status_code
        == 404
    )
    assert (
        login(neighbour).get(f"/o/{other_org.slug}/publishing/windows/{window.pk}/").status_code
        == 404
    )
    response = login(desk.admin).post(delete, follow=True)
    assert "Period without publishing removed." in response.content.decode()
    assert not PauseWindow.objects.exists()
    assert AuditEvent.objects.filter(action="pause_window.delete").exists()
