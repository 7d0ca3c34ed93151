"""The post pages: the list (filters, what each platform did, CSV), a post's page (approval,
actions by state, outcomes, history, the package to post by hand) and who may do what."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from beffroi.publishing import sending, services
from beffroi.publishing.models import ExternalApprovalLink, Post, PostVariant
from beffroi.sources.models import DEMO_SETTING, Source
from tests.publishing.test_composer import _login, make_image

pytestmark = pytest.mark.django_db


def write(
    desk: Any,
    text: str = "Le marché est ouvert samedi.",
    *,
    author: Any = None,
    sources: list[Any] | None = None,
    when: Any = None,
    title: str = "Marché",
    media: Any = (),
    labels: tuple[str, ...] = (),
    campaign: str = "",
) -> Post:
    author = author or desk.author
    return services.save_post(
        desk.actor(author),
        desk.org,
        [
            services.VariantInput(source=source, text=text, media=list(media))
            for source in (sources or [desk.page, desk.mastodon])
        ],
        title=title,
        scheduled_at=when,
        labels=labels,
        campaign=campaign,
    )


def submitted(desk: Any, **kwargs: Any) -> Post:
    post = write(desk, **kwargs)
    return services.submit(desk.actor(kwargs.get("author") or desk.author), post)


def _html(response: Any) -> str:
    return str(response.content.decode())


# --- the list ------------------------------------------------------------------------------


def test_the_list_filters_and_shows_the_post_state_apart_from_the_platforms(
    desk: Any, cabinet_workflow: Any
) -> None:
    draft = write(
        desk, "Brouillon", title="Fête de la musique", labels=("culture",), campaign="Été"
    )
    out = write(desk, "Publié", title="Travaux rue Haute")
    Post.objects.filter(pk=out.pk).update(state=Post.State.FAILED)
    out.variants.filter(source=desk.page).update(
        state=PostVariant.State.PUBLISHED, url="https://www.facebook.com/ville/posts/1"
    )
    out.variants.filter(source=desk.mastodon).update(
        state=PostVariant.State.FAILED, reason="credentials", detail="401"
    )
    waiting = submitted(desk, title="Conseil municipal", sources=[desk.mastodon])

    client = _login(desk.author)
    base = f"/o/{desk.org.slug}/publishing/"
    html = _html(client.get(base))
    assert "Fête de la musique" in html and "Travaux rue Haute" in html
    assert 'Page <span class="muted">(Facebook)</span>' in html
    # The post's state, and apart what each platform did: a link, or why not.
    assert "https://www.facebook.com/ville/posts/1" in html
    assert "the account&#x27;s access was refused or has expired" in html
    assert "Waiting for my approval" not in html  # the author approves nothing

    only_drafts = _html(client.get(base, {"state": "draft"}))
    assert "Fête de la musique" in only_drafts and "Travaux rue Haute" not in only_drafts
    by_account = _html(client.get(base, {"account": desk.page.pk}))
    assert "Conseil municipal" not in by_account and "Fête de la musique" in by_account
    culture = draft.labels.get()
    by_label = _html(client.get(base, {"label": culture.pk}))
    assert "Fête de la musique" in by_label and "Travaux rue Haute" not in by_label
    by_campaign = _html(client.get(base, {"campaign": "Été"}))
    assert "Fête de la musique" in by_campaign and "Conseil municipal" not in by_campaign
    by_text = _html(client.get(base, {"q": "brouillon"}))
    assert "Fête de la musique" in by_text and "Travaux rue Haute" not in by_text

    cabinet = _login(desk.cabinet[0])
    mine = _html(cabinet.get(base, {"waiting": "on"}))
    assert "Waiting for my approval" in mine
    assert "Conseil municipal" in mine and "Fête de la musique" not in mine
    assert draft.state == Post.State.DRAFT and waiting.state == Post.State.IN_REVIEW


def test_the_list_exports_the_filtered_posts_as_csv(desk: Any) -> None:
    write(desk, title="=Fête")
    write(desk, title="Travaux", sources=[desk.mastodon])
    client = _login(desk.author)
    response = client.get(
        f"/o/{desk.org.slug}/publishing/", {"account": desk.mastodon.pk, "format": "csv"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "title", "kind", "state"]
    titles = sorted(row[1] for row in rows[1:])
    # Both have a Mastodon variant; the formula start is defused.
    assert titles == ["'=Fête", "Travaux"]
    assert all("Mastodon (mastodon)" in row[5] for row in rows[1:])


# --- approval ------------------------------------------------------------------------------


def test_a_cabinet_member_approves_and_the_post_is_scheduled(
    desk: Any, cabinet_workflow: Any
) -> None:
    post = submitted(desk, when=timezone.now() + timedelta(days=2))
    assert post.state == Post.State.IN_REVIEW
    client = _login(desk.cabinet[0])
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    page = _html(client.get(url))
    assert "data-post-approve" in page and f'value="{post.content_hash}"' in page
    assert "Cabinet du maire" in page
    response = client.post(
        url + "decide/",
        {"decision": "approve", "comment": "Parfait.", "seen_hash": post.content_hash},
        follow=True,
    )
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED
    html = _html(response)
    assert "Approved: the post is scheduled." in html
    assert "Approved by: cabinet1" in html
    assert "Approved a post" in html  # the history


def test_the_author_cannot_approve_their_own_post(desk: Any, cabinet_workflow: Any) -> None:
    step = cabinet_workflow.steps.get()
    step.approvers.add(desk.admin)  # an administrator in the cabinet writes a post
    post = submitted(desk, author=desk.admin)
    client = _login(desk.admin)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    page = _html(client.get(url))
    assert "data-post-approve" not in page
    assert "You wrote this post: someone else approves it." in page
    response = client.post(
        url + "decide/",
        {"decision": "approve", "seen_hash": post.content_hash},
        follow=True,
    )
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    assert "No one approves their own post." in _html(response)
    # A publisher is no approver at all.
    assert _login(desk.author).post(url + "decide/", {"decision": "approve"}).status_code == 403


def test_a_decision_on_content_changed_since_it_was_read_is_refused(
    desk: Any, cabinet_workflow: Any
) -> None:
    post = submitted(desk)
    seen = post.content_hash
    services.save_post(
        desk.actor(desk.author),
        desk.org,
        [services.VariantInput(source=desk.page, text="Autre texte")],
        post=post,
        title="Marché",
    )
    response = _login(desk.cabinet[0]).post(
        f"/o/{desk.org.slug}/publishing/{post.pk}/decide/",
        {"decision": "approve", "seen_hash": seen},
        follow=True,
    )
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW and not post.approvals.exists()
    assert "The post changed since you opened it" in _html(response)


def test_sending_back_returns_the_post_to_its_author_with_the_comment(
    desk: Any, cabinet_workflow: Any
) -> None:
    post = submitted(desk)
    client = _login(desk.cabinet[1])
    response = client.post(
        f"/o/{desk.org.slug}/publishing/{post.pk}/decide/",
        {"decision": "reject", "comment": "Ajoutez l'horaire.", "seen_hash": post.content_hash},
        follow=True,
    )
    post.refresh_from_db()
    assert post.state == Post.State.DRAFT
    html = _html(response)
    assert "Sent back to its author." in html
    assert "Sent back: Ajoutez l&#x27;horaire." in html


def test_an_edit_after_approval_sends_the_post_back_to_review(
    desk: Any, cabinet_workflow: Any
) -> None:
    post = submitted(desk, when=timezone.now() + timedelta(days=1))
    services.decide(desk.actor(desk.cabinet[0]), post, True, seen_hash=post.content_hash)
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED
    client = _login(desk.author)
    edit = f"/o/{desk.org.slug}/publishing/{post.pk}/edit/"
    page = _html(client.get(edit))
    assert "This post is approved: a change to its content sends it back to review" in page
    local = timezone.localtime(post.scheduled_at).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local}"' in page  # the time as the organization reads it
    response = client.post(
        edit,
        {
            "title": "Marché",
            "accounts": [desk.page.pk, desk.mastodon.pk],
            "main_text": "Le marché est ouvert samedi, de 8 h à 13 h.",
            "scheduled_at": timezone.localtime(post.scheduled_at).strftime("%Y-%m-%dT%H:%M"),
            "save": "1",
        },
        follow=True,
    )
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW and not post.approval_current
    assert "Its content changed after it was approved: the post goes back to review" in _html(
        response
    )


# --- actions by state, outcomes ------------------------------------------------------------


def test_publish_now_simulates_on_demo_accounts_and_says_so(
    desk: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post = submitted(desk)  # no workflow: approved by submitting
    assert post.state == Post.State.APPROVED
    client = _login(desk.author)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    assert "Publish now" in _html(client.get(url))
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url + "publish-now/")
    for variant in post.variants.all():
        sending.publish(variant.pk)  # what the job does
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED
    html = _html(client.get(url))
    assert "Simulated: a demo account, nothing was sent to a platform." in html
    assert "Publish now" not in html and "data-post-edit" not in html


def test_an_unknown_outcome_is_confirmed_or_sent_again(
    desk: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post = submitted(desk)
    Post.objects.filter(pk=post.pk).update(state=Post.State.FAILED)
    page_variant = post.variants.get(source=desk.page)
    masto_variant = post.variants.get(source=desk.mastodon)
    PostVariant.objects.filter(pk__in=[page_variant.pk, masto_variant.pk]).update(
        state=PostVariant.State.UNKNOWN, reason="unconfirmed", detail="read timeout"
    )
    client = _login(desk.author)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    html = _html(client.get(url))
    assert "it may have been published. Check on Facebook" in html
    assert "It is published" in html and "It is not there: send it again" in html

    response = client.post(
        f"/o/{desk.org.slug}/publishing/variants/{page_variant.pk}/confirm/",
        {"url": "https://www.facebook.com/ville/posts/9"},
        follow=True,
    )
    page_variant.refresh_from_db()
    assert page_variant.state == PostVariant.State.PUBLISHED
    assert "Recorded as published." in _html(response)
    assert "https://www.facebook.com/ville/posts/9" in _html(response)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/o/{desk.org.slug}/publishing/variants/{masto_variant.pk}/retry/")
    masto_variant.refresh_from_db()
    assert masto_variant.state == PostVariant.State.PENDING and len(callbacks) == 1


def test_suspend_reinstate_schedule_and_comment(desk: Any, cabinet_workflow: Any) -> None:
    post = submitted(desk)
    client = _login(desk.author)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    suspended = client.post(url + "suspend/", {"reason": "Deuil national"}, follow=True)
    post.refresh_from_db()
    assert post.state == Post.State.SUSPENDED
    assert "Suspended: Deuil national" in _html(suspended)
    client.post(url + "reinstate/")
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    scheduled = client.post(url + "schedule/", {"when": "2031-01-15T10:00"}, follow=True)
    post.refresh_from_db()
    assert post.scheduled_at is not None
    assert post.scheduled_at.isoformat() == "2031-01-15T09:00:00+00:00"  # Paris, UTC+1
    assert "Time set: 15/01/2031 10:00." in _html(scheduled)
    commented = _login(desk.cabinet[0]).post(
        url + "comment/", {"body": "Une photo du marché ?"}, follow=True
    )
    assert "Une photo du marché ?" in _html(commented)
    assert post.comments.get().author == desk.cabinet[0]


def test_an_external_approval_link_is_shown_once(desk: Any, cabinet_workflow: Any) -> None:
    cabinet_workflow.steps.update(allow_external=True)
    post = submitted(desk)
    client = _login(desk.author)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    assert "Create an approval link" in _html(client.get(url))
    response = client.post(url + "external-link/", {"name": "Mme la Maire"})
    html = _html(response)
    assert response.status_code == 200
    link = ExternalApprovalLink.objects.get(post=post)
    assert link.name == "Mme la Maire"
    shown = html.split(f"{settings.BEFFROI_PUBLIC_URL}/p/approve/")[1].split("/")[0]
    assert services.external_link(shown) == link
    assert f"/p/approve/{shown}/" not in _html(client.get(url))


def test_the_package_to_post_by_hand_holds_the_text_the_media_and_how(desk: Any) -> None:
    snapchat = Source.objects.create(
        organization=desk.org,
        name="Snap",
        platform="snapchat",
        kind=Source.Kind.IMPORT,
        settings={DEMO_SETTING: True},
    )
    image = make_image(desk.org, "affiche.png", alt_text="L'affiche du festival")
    post = write(desk, "Le festival commence !", sources=[snapchat], media=[image])
    variant = post.variants.get()
    client = _login(desk.author)
    page = _html(client.get(f"/o/{desk.org.slug}/publishing/{post.pk}/"))
    assert "Download the package to post by hand" in page
    response = client.get(f"/o/{desk.org.slug}/publishing/variants/{variant.pk}/package/")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["README.txt", "media/01-affiche.png", "text.txt"]
    assert archive.read("text.txt").decode() == "Le festival commence !\n"
    assert archive.read("media/01-affiche.png") == image.file.open("rb").read()
    readme = archive.read("README.txt").decode()
    assert "L'affiche du festival" in readme and "Snapchat" in readme


# --- who may see and do what ----------------------------------------------------------------

WRITES = [
    "submit/",
    "decide/",
    "schedule/",
    "publish-now/",
    "suspend/",
    "reinstate/",
    "comment/",
    "external-link/",
    "edit/",
]


def test_another_organizations_post_is_not_found_anywhere(
    desk: Any, other_org: Any, make_user: Any
) -> None:
    theirs = Source.objects.create(
        organization=other_org, name="Leur page", platform="facebook", settings={DEMO_SETTING: True}
    )
    stranger = make_user("stranger", org=other_org, role="admin")
    post = services.save_post(
        desk.actor(stranger), other_org, [services.VariantInput(source=theirs, text="Chez eux")]
    )
    variant = post.variants.get()
    client = _login(desk.admin)
    base = f"/o/{desk.org.slug}/publishing/"
    assert client.get(f"{base}{post.pk}/").status_code == 404
    assert client.get(f"{base}{post.pk}/edit/").status_code == 404
    for action in WRITES:
        assert client.post(f"{base}{post.pk}/{action}").status_code == 404, action
    for action in ("retry/", "confirm/"):
        assert client.post(f"{base}variants/{variant.pk}/{action}").status_code == 404, action
    assert client.get(f"{base}variants/{variant.pk}/package/").status_code == 404
    # Nor is it listed, nor are its accounts offered.
    assert "Chez eux" not in _html(client.get(base))
    assert "Leur page" not in _html(client.get(base + "new/"))


def test_a_viewer_reads_but_writes_nothing(desk: Any, make_user: Any) -> None:
    post = submitted(desk)
    variant = post.variants.first()
    assert variant is not None
    viewer = make_user("vera", org=desk.org, role="viewer")
    client = _login(viewer)
    base = f"/o/{desk.org.slug}/publishing/"
    assert client.get(base).status_code == 200
    page = _html(client.get(f"{base}{post.pk}/"))
    assert "Publish now" not in page and "Add the comment" not in page
    assert client.get(base + "new/").status_code == 403
    for action in WRITES:
        assert client.post(f"{base}{post.pk}/{action}").status_code == 403, action
    for action in ("retry/", "confirm/"):
        assert client.post(f"{base}variants/{variant.pk}/{action}").status_code == 403, action
    assert client.get(f"{base}variants/{variant.pk}/package/").status_code == 403
    post.refresh_from_db()
    assert post.state == Post.State.APPROVED and not post.comments.exists()


def test_writes_answer_post_only(desk: Any) -> None:
    post = write(desk)
    client = _login(desk.author)
    assert client.get(f"/o/{desk.org.slug}/publishing/{post.pk}/submit/").status_code == 405
    assert client.get(f"/o/{desk.org.slug}/publishing/check/").status_code == 405


def test_platform_text_is_escaped_everywhere(desk: Any) -> None:
    text = "<script>alert('x')</script> & <b>gras</b>"
    post = write(desk, text, title="<i>titre</i>")
    client = _login(desk.author)
    base = f"/o/{desk.org.slug}/publishing/"
    pages = [
        _html(client.get(base)),
        _html(client.get(f"{base}{post.pk}/")),
        _html(client.get(f"{base}{post.pk}/edit/")),
        _html(client.post(base + "check/", {"accounts": [desk.page.pk], "main_text": text})),
    ]
    for html in pages:
        assert "<script>alert" not in html and "<b>gras</b>" not in html
        assert "<i>titre</i>" not in html
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;"
        in pages[1]
    )


def test_the_pages_render_in_both_languages(desk: Any, cabinet_workflow: Any) -> None:
    post = submitted(desk)
    for language, state in (("fr", "En relecture"), ("en", "In review")):
        client = _login(desk.author, language) if language == "fr" else _login(desk.cabinet[0])
        for path in ("", f"{post.pk}/", "new/"):
            if path == "new/" and language == "en":
                continue  # an approver writes no post
            response = client.get(
                f"/o/{desk.org.slug}/publishing/{path}", HTTP_ACCEPT_LANGUAGE=language
            )
            assert response.status_code == 200, path
            html = _html(response)
            assert f'<html lang="{language}">' in html
        assert state in _html(client.get(f"/o/{desk.org.slug}/publishing/{post.pk}/"))


def test_an_evergreen_post_is_published_again_from_its_page(
    desk: Any, verified_client: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from beffroi.publishing import services as publishing
    from beffroi.publishing.services import VariantInput

    post = publishing.save_post(
        desk.actor(desk.author),
        desk.org,
        [VariantInput(desk.page, text="Pensez à la déchetterie, ouverte le samedi.")],
        title="Déchetterie",
        evergreen=True,
    )
    publishing.submit(desk.actor(desk.author), post)
    publishing.publish_now(desk.actor(desk.author), post)
    for variant in post.variants.all():
        sending.publish(variant.pk)
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED
    client = verified_client(desk.author)
    url = f"/o/{desk.org.slug}/publishing/{post.pk}/"
    assert "Publish again" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    when = timezone.localtime(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        f"{url}publish-again/", {"again-when": when}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Published again on" in answer.content.decode()
    copy = Post.objects.get(series=post)
    assert copy.state == Post.State.SCHEDULED and copy.approval_current
