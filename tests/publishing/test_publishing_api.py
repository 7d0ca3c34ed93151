"""The publishing desk through the JSON API: posts written, edited, submitted, approved or sent
back, scheduled, published and suspended; the calendar; the pause; the media library. The
same rules as the pages (the services'), the token's person as the actor, 404 across
organizations, 403 for a role that lacks the capability, 409 for a refused state change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.publishing import services
from beffroi.publishing.models import (
    Approval,
    MediaAsset,
    Pause,
    PauseWindow,
    Post,
    PostVariant,
)
from beffroi.publishing.services import VariantInput
from tests.api.conftest import ApiClient

State = Post.State
TEXT = "Marché de Noël samedi place de la mairie."


@pytest.fixture
def api(db: Any) -> ApiClient:
    # CSRF checks on: token-authenticated calls must not need a CSRF token. Sentences read
    # in English.
    return ApiClient(Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en"))


def key(user: Any) -> str:
    from beffroi.accounts.models import ApiToken

    return ApiToken.issue(user, "test")[1]


def _write(desk: Any, text: str = TEXT, author: Any = None, **kw: Any) -> Post:
    return services.save_post(
        desk.actor(author or desk.author),
        desk.org,
        [VariantInput(desk.page, text=text), VariantInput(desk.mastodon, text=text)],
        **{"title": "Marché de Noël", **kw},
    )


def _url(desk: Any, tail: str = "") -> str:
    return f"orgs/{desk.org.slug}/{tail}"


def _api_events(post: Post) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(post.pk), channel="api")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _media(desk: Any, name: str = "Affiche") -> MediaAsset:
    return MediaAsset.objects.create(
        organization=desk.org,
        name=name,
        kind="image",
        file=f"publishing/{desk.org.pk}/{name}.png",
        mime_type="image/png",
        size_bytes=2048,
        width=1200,
        height=800,
        alt_text="Le sapin de la place",
        sha256=name.encode().hex().ljust(64, "0"),
    )


# --- reading ---------------------------------------------------------------------------------


def test_posts_are_listed_with_their_variants_and_filtered(desk: Any, api: ApiClient) -> None:
    when = timezone.now() + timedelta(days=2)
    market = _write(desk, labels=["marché"], campaign="Noël", scheduled_at=when)
    works = services.save_post(
        desk.actor(desk.author),
        desk.org,
        [VariantInput(desk.page, text="Travaux rue Victor Hugo.")],
        title="Travaux",
    )
    viewer = key(desk.cabinet[0])  # an approver reads as a viewer does

    page = api.get(_url(desk, "posts"), viewer).json()
    assert page["count"] == 2
    # Posts without a time come first, then the latest time.
    assert [post["id"] for post in page["items"]] == [works.pk, market.pk]
    listed = page["items"][1]
    assert listed["title"] == "Marché de Noël"
    assert listed["state"] == "draft"
    assert listed["labels"] == ["marché"]
    assert listed["campaign"] == "Noël"
    assert listed["author"] == desk.author.username
    assert listed["content_hash"] == market.content_hash
    assert {(v["account"]["name"], v["account"]["platform"]) for v in listed["variants"]} == {
        ("Page", "facebook"),
        ("Mastodon", "mastodon"),
    }
    assert {v["text"] for v in listed["variants"]} == {TEXT}
    assert {v["state"] for v in listed["variants"]} == {"pending"}

    def ids(**query: Any) -> list[int]:
        answer = api.get(_url(desk, "posts"), viewer, **query)
        assert answer.status_code == 200, answer.content
        return [post["id"] for post in answer.json()["items"]]

    assert ids(label="marché") == [market.pk]
    assert ids(account=desk.mastodon.pk) == [market.pk]
    assert ids(account=desk.page.pk) == [works.pk, market.pk]
    assert ids(state="draft", label="nothing") == []
    assert ids(**{"from": (when - timedelta(hours=1)).isoformat()}) == [market.pk]
    assert ids(to=(when - timedelta(hours=1)).isoformat()) == []
    assert api.get(_url(desk, "posts"), viewer, state="nonsense").status_code == 422
    assert api.get(_url(desk, "posts"), viewer, **{"from": "12"}).status_code == 422

    detail = api.get(_url(desk, f"posts/{market.pk}"), viewer).json()
    assert detail["id"] == market.pk
    assert detail["problems"] == []
    assert detail["approvals"] == []
    assert detail["steps"] == []


def test_a_post_too_long_for_its_network_says_why_and_cannot_be_submitted(
    desk: Any, api: ApiClient
) -> None:
    post = services.save_post(
        desk.actor(desk.author), desk.org, [VariantInput(desk.mastodon, text="a" * 600)]
    )
    author = key(desk.author)
    detail = api.get(_url(desk, f"posts/{post.pk}"), author).json()
    variant = post.variants.get()
    assert [(p["variant_id"], p["code"], p["field"]) for p in detail["problems"]] == [
        (variant.pk, "too_long", "text")
    ]
    assert "500" in detail["problems"][0]["sentence"]
    response = api.post(_url(desk, f"posts/{post.pk}/submit"), author)
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "The post cannot go further: fix what is said under each account."
    )
    post.refresh_from_db()
    assert post.state == State.DRAFT


# --- writing, approving ----------------------------------------------------------------------


def test_a_draft_written_submitted_approved_then_changed_goes_back_to_review(
    desk: Any, cabinet_workflow: Any, api: ApiClient
) -> None:
    author = key(desk.author)
    poster = _media(desk)
    when = timezone.now() + timedelta(days=3)
    response = api.post(
        _url(desk, "posts"),
        author,
        {
            "title": "Marché",
            "scheduled_at": when.isoformat(),
            "labels": ["marché", "noël"],
            "variants": [
                {
                    "account_id": desk.page.pk,
                    "text": TEXT,
                    "link": "https://ville.example/marche",
                },
                {"account_id": desk.mastodon.pk, "text": TEXT, "media": [poster.pk]},
            ],
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    post = Post.objects.get(pk=created["id"])
    assert created["state"] == "draft"
    assert post.author == desk.author
    assert post.scheduled_at == when
    assert created["labels"] == ["marché", "noël"]
    by_account = {v["account"]["id"]: v for v in created["variants"]}
    assert by_account[desk.mastodon.pk]["media"] == [poster.pk]
    assert by_account[desk.page.pk]["link"] == "https://ville.example/marche"

    edited = api.patch(_url(desk, f"posts/{post.pk}"), author, {"title": "Marché de Noël"})
    assert edited.status_code == 200, edited.content
    assert edited.json()["title"] == "Marché de Noël"
    assert edited.json()["back_to_review"] is False
    # What was left out stayed as it was.
    assert edited.json()["variants"] == created["variants"]
    assert edited.json()["scheduled_at"] == created["scheduled_at"]
    # The time changes through `schedule` (where an approved post starts waiting for it).
    assert (
        api.patch(_url(desk, f"posts/{post.pk}"), author, {"scheduled_at": None}).status_code == 422
    )

    submitted = api.post(_url(desk, f"posts/{post.pk}/submit"), author)
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["state"] == "in_review"
    assert submitted.json()["steps"] == ["Cabinet du maire"]
    seen = submitted.json()["content_hash"]

    approved = api.post(
        _url(desk, f"posts/{post.pk}/approve"),
        key(desk.cabinet[0]),
        {"seen_hash": seen, "comment": "Parfait"},
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "scheduled"
    assert approved.json()["approved"] is True
    [given] = approved.json()["approvals"]
    assert given["who"] == "cabinet1" and given["decision"] == "approve" and given["current"]

    changed = api.patch(
        _url(desk, f"posts/{post.pk}"),
        author,
        {"variants": [{"account_id": desk.page.pk, "text": "Marché de Noël dimanche."}]},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["back_to_review"] is True
    assert changed.json()["state"] == "in_review"
    assert changed.json()["approved"] is False
    assert [v["account"]["id"] for v in changed.json()["variants"]] == [desk.page.pk]
    assert changed.json()["approvals"][0]["current"] is False
    assert _api_events(post) == [
        "post.create",
        "post.edit",
        "post.submit",
        "post.approve",
        "post.edit",
        "post.back_to_review",
    ]
    event = AuditEvent.objects.filter(object_id=str(post.pk), action="post.approve").get()
    assert event.actor == desk.cabinet[0]


def test_a_post_refuses_what_is_not_the_organizations(
    desk: Any, other_org: Any, api: ApiClient
) -> None:
    from beffroi.sources.models import Source

    theirs = Source.objects.create(organization=other_org, name="Leur page", platform="facebook")
    author = key(desk.author)

    def create(*variants: dict[str, Any]) -> Any:
        return api.post(_url(desk, "posts"), author, {"variants": list(variants)})

    response = create({"account_id": theirs.pk, "text": TEXT})
    assert response.status_code == 400
    assert response.json()["detail"] == "This account is not one of the organization's."
    response = create({"account_id": desk.page.pk, "text": TEXT, "media": [987654]})
    assert response.status_code == 400
    assert response.json()["detail"] == "This media is not in the organization's library."
    # Refused by their description: 422.
    assert create().status_code == 422
    assert create({"account_id": desk.page.pk}, {"account_id": desk.page.pk}).status_code == 422
    assert create({"account_id": desk.page.pk, "link": "javascript:alert(1)"}).status_code == 422
    response = api.post(
        _url(desk, "posts"),
        author,
        {"variants": [{"account_id": desk.page.pk, "text": TEXT}], "recurrence": "FREQ=NEVER"},
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The repeat rule cannot be read")
    assert not Post.objects.exists()


def test_another_organizations_post_is_not_found(
    desk: Any, other_org: Any, make_user: Any, api: ApiClient
) -> None:
    from beffroi.sources.models import Source

    stranger = make_user("stranger", org=other_org, role="admin")
    theirs = services.save_post(
        desk.actor(stranger),
        other_org,
        [VariantInput(Source.objects.create(organization=other_org, name="P", platform="file"))],
    )
    admin = key(desk.admin)
    assert api.get(_url(desk, f"posts/{theirs.pk}"), admin).status_code == 404
    assert api.patch(_url(desk, f"posts/{theirs.pk}"), admin, {"title": "x"}).status_code == 404
    for action in ("submit", "publish-now"):
        assert api.post(_url(desk, f"posts/{theirs.pk}/{action}"), admin).status_code == 404
    decision = {"seen_hash": theirs.content_hash}
    assert api.post(_url(desk, f"posts/{theirs.pk}/approve"), admin, decision).status_code == 404
    # Through their slug: not a member.
    assert api.get(f"orgs/{other_org.slug}/posts/{theirs.pk}", admin).status_code == 404
    theirs.refresh_from_db()
    assert theirs.title != "x" and theirs.state == State.DRAFT


def test_a_viewer_reads_and_writes_nothing(desk: Any, make_user: Any, api: ApiClient) -> None:
    post = _write(desk)
    viewer = key(make_user("lecteur", org=desk.org, role="viewer"))
    assert api.get(_url(desk, f"posts/{post.pk}"), viewer).status_code == 200
    assert api.get(_url(desk, "pause"), viewer).status_code == 200
    writes = [
        ("POST", "posts", {"variants": [{"account_id": desk.page.pk, "text": TEXT}]}),
        ("PATCH", f"posts/{post.pk}", {"title": "Autre"}),
        ("POST", f"posts/{post.pk}/submit", None),
        ("POST", f"posts/{post.pk}/approve", {"seen_hash": post.content_hash}),
        ("POST", f"posts/{post.pk}/schedule", {"scheduled_at": None}),
        ("POST", f"posts/{post.pk}/suspend", {"reason": "Erreur"}),
        ("POST", "pause", {"reason": "Crise"}),
    ]
    for method, tail, body in writes:
        response = api.call(method, _url(desk, tail), viewer, body or {})
        assert response.status_code == 403, (method, tail, response.content)
    assert Post.objects.get() == post and not Pause.objects.exists()
    assert not AuditEvent.objects.filter(channel="api").exists()


def test_a_publisher_cannot_approve_and_no_one_approves_their_own_post(
    desk: Any, cabinet_workflow: Any, api: ApiClient
) -> None:
    post = services.submit(desk.actor(desk.author), _write(desk))
    decision = {"seen_hash": post.content_hash}
    response = api.post(_url(desk, f"posts/{post.pk}/approve"), key(desk.author), decision)
    assert response.status_code == 403

    # An approver who wrote a post (through the services) does not approve it.
    own = services.submit(desk.actor(desk.cabinet[0]), _write(desk, author=desk.cabinet[0]))
    response = api.post(
        _url(desk, f"posts/{own.pk}/approve"),
        key(desk.cabinet[0]),
        {"seen_hash": own.content_hash},
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "No one approves their own post."
    # Nor is an administrator outside the step's group an approver of it.
    response = api.post(_url(desk, f"posts/{post.pk}/approve"), key(desk.admin), decision)
    assert response.status_code == 409
    assert "not among the approvers" in response.json()["detail"]
    assert not Approval.objects.exists()


def test_a_decision_on_content_changed_since_it_was_read_is_refused(
    desk: Any, cabinet_workflow: Any, api: ApiClient
) -> None:
    post = services.submit(desk.actor(desk.author), _write(desk))
    read = post.content_hash
    _write(desk, text="Marché de Noël dimanche.", post=post)
    approver = key(desk.cabinet[0])
    for action in ("approve", "reject"):
        response = api.post(_url(desk, f"posts/{post.pk}/{action}"), approver, {"seen_hash": read})
        assert response.status_code == 409
        assert response.json()["detail"] == (
            "The post changed since you opened it: read it again before deciding."
        )
    assert api.post(_url(desk, f"posts/{post.pk}/approve"), approver, {}).status_code == 422
    assert not Approval.objects.exists()

    post.refresh_from_db()
    response = api.post(
        _url(desk, f"posts/{post.pk}/reject"),
        approver,
        {"seen_hash": post.content_hash, "comment": "Pas le dimanche."},
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "draft"
    assert response.json()["state_reason"] == "Pas le dimanche."
    assert _api_events(post) == ["post.reject"]


def test_schedule_publish_now_and_suspend(
    desk: Any, api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    author = key(desk.author)
    post = services.submit(desk.actor(desk.author), _write(desk))
    assert post.state == State.APPROVED  # no workflow: approved on submit

    when = timezone.now() + timedelta(days=1)
    response = api.post(
        _url(desk, f"posts/{post.pk}/schedule"), author, {"scheduled_at": when.isoformat()}
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "scheduled"
    response = api.post(_url(desk, f"posts/{post.pk}/schedule"), author, {"scheduled_at": None})
    assert response.json()["state"] == "approved" and response.json()["scheduled_at"] is None
    # The time is required, null or not.
    assert api.post(_url(desk, f"posts/{post.pk}/schedule"), author, {}).status_code == 422

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_url(desk, f"posts/{post.pk}/publish-now"), author)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "publishing"
    from beffroi.jobs.engine import run_pending

    run_pending()
    published = api.get(_url(desk, f"posts/{post.pk}"), author).json()
    assert published["state"] == "published"
    assert {v["state"] for v in published["variants"]} == {PostVariant.State.SIMULATED}

    response = api.post(_url(desk, f"posts/{post.pk}/suspend"), author, {"reason": "Erreur"})
    assert response.status_code == 409
    assert "suspended" in response.json()["detail"]

    other = services.submit(desk.actor(desk.author), _write(desk, title="Autre"))
    response = api.post(_url(desk, f"posts/{other.pk}/suspend"), author, {"reason": "Erreur"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "suspended"
    assert response.json()["state_reason"] == "Erreur"
    assert (
        api.post(_url(desk, f"posts/{other.pk}/suspend"), author, {"reason": " "}).status_code
        == 422
    )
    assert api.post(_url(desk, f"posts/{other.pk}/submit"), author).status_code == 409
    assert _api_events(other) == ["post.suspend"]


# --- calendar, pause, library ----------------------------------------------------------------


def test_the_calendar_shows_the_posts_of_the_period_and_the_windows(
    desk: Any, api: ApiClient
) -> None:
    start = timezone.now() + timedelta(days=1)
    inside = _write(desk, scheduled_at=start + timedelta(days=2))
    _write(desk, title="Plus tard", scheduled_at=start + timedelta(days=40))
    _write(desk, title="Sans date")
    window = PauseWindow.objects.create(
        organization=desk.org,
        name="Réserve électorale",
        starts_at=start + timedelta(days=5),
        ends_at=start + timedelta(days=60),
    )
    viewer = key(desk.cabinet[0])
    response = api.get(
        _url(desk, "calendar"),
        viewer,
        **{"from": start.isoformat(), "to": (start + timedelta(days=10)).isoformat()},
    )
    assert response.status_code == 200, response.content
    calendar = response.json()
    assert [(p["id"], p["platforms"]) for p in calendar["posts"]] == [
        (inside.pk, ["facebook", "mastodon"])
    ]
    assert [w["id"] for w in calendar["windows"]] == [window.pk]
    # By default, the month to come.
    assert [p["id"] for p in api.get(_url(desk, "calendar"), viewer).json()["posts"]] == [inside.pk]
    backwards = {"from": start.isoformat(), "to": (start - timedelta(days=1)).isoformat()}
    assert api.get(_url(desk, "calendar"), viewer, **backwards).status_code == 422
    too_long = {"from": start.isoformat(), "to": (start + timedelta(days=400)).isoformat()}
    assert api.get(_url(desk, "calendar"), viewer, **too_long).status_code == 422


def test_a_pause_through_the_api_leaves_a_due_post_unattempted(desk: Any, api: ApiClient) -> None:
    when = timezone.now() + timedelta(minutes=5)
    post = services.submit(desk.actor(desk.author), _write(desk, scheduled_at=when))
    assert post.state == State.SCHEDULED
    admin = key(desk.admin)

    assert api.post(_url(desk, "pause"), key(desk.author), {"reason": "Crise"}).status_code == 403
    response = api.post(_url(desk, "pause"), admin, {"reason": "Inondation : tout s'arrête"})
    assert response.status_code == 201, response.content
    paused = response.json()
    assert paused["scope"] == "organization"
    assert paused["confirmed_at"] is not None and paused["in_flight"] == 0
    assert paused["started_by"] == "admin"
    state = api.get(_url(desk, "pause"), key(desk.cabinet[0])).json()
    assert state["paused"] is True and [p["id"] for p in state["pauses"]] == [paused["id"]]

    assert services.release_due(now=when + timedelta(seconds=1)) == 0
    post.refresh_from_db()
    assert post.state == State.UNATTEMPTED
    assert post.state_reason == "Inondation : tout s'arrête"

    resumed = api.post(_url(desk, f"pause/{paused['id']}/resume"), admin)
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["ended_at"] is not None and resumed.json()["ended_by"] == "admin"
    again = api.post(_url(desk, f"pause/{paused['id']}/resume"), admin)
    assert again.status_code == 409
    assert again.json()["detail"] == "This pause has already ended."
    assert api.get(_url(desk, "pause"), admin).json()["paused"] is False
    post.refresh_from_db()
    assert post.state == State.UNATTEMPTED  # a person decides: no burst at the end
    actions = set(
        AuditEvent.objects.filter(channel="api", object_type__icontains="pause").values_list(
            "action", flat=True
        )
    )
    assert actions == {"publishing.pause", "publishing.resume"}


def test_a_pause_of_one_account_or_one_label(desk: Any, other_org: Any, api: ApiClient) -> None:
    from beffroi.sources.models import Source

    _write(desk, labels=["électoral"])
    admin = key(desk.admin)
    response = api.post(
        _url(desk, "pause"), admin, {"reason": "Compte piraté", "account_id": desk.page.pk}
    )
    assert response.status_code == 201, response.content
    assert response.json()["scope"] == "source"
    assert response.json()["account"] == {
        "id": desk.page.pk,
        "name": "Page",
        "platform": "facebook",
    }
    response = api.post(_url(desk, "pause"), admin, {"reason": "Réserve", "label": "électoral"})
    assert response.status_code == 201, response.content
    assert response.json()["scope"] == "label" and response.json()["label"] == "électoral"

    theirs = Source.objects.create(organization=other_org, name="Leur page", platform="facebook")
    refused = [
        ({"reason": "x", "label": "inconnu"}, 400),
        ({"reason": "x", "account_id": theirs.pk}, 400),
        ({"reason": "x", "account_id": desk.page.pk, "label": "électoral"}, 422),
        ({"reason": "   "}, 400),
        ({}, 422),
    ]
    for body, status in refused:
        response = api.post(_url(desk, "pause"), admin, body)
        assert response.status_code == status, (body, response.content)
    assert Pause.objects.count() == 2


def test_the_media_library_is_listed(desk: Any, other_org: Any, api: ApiClient) -> None:
    first = _media(desk, "Affiche")
    second = _media(desk, "Sapin")
    MediaAsset.objects.create(
        organization=other_org,
        name="Leur image",
        kind="image",
        file="publishing/x.png",
        mime_type="image/png",
        size_bytes=1,
        sha256="f" * 64,
    )
    page = api.get(_url(desk, "media"), key(desk.cabinet[0])).json()
    assert page["count"] == 2
    assert {m["id"] for m in page["items"]} == {first.pk, second.pk}
    assert page["items"][0]["alt_text"] == "Le sapin de la place"
    assert page["items"][0]["mime_type"] == "image/png"
