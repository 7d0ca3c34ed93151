"""The external approval page (an elected official approves a step from a signed link, with
no account) and the library files platforms fetch by a signed address."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from beffroi.publishing import media, sending, services
from beffroi.publishing.models import Approval, ExternalApprovalLink, Post
from beffroi.publishing.services import VariantInput

pytestmark = pytest.mark.django_db

TEXT = "Le <b>marché</b> de Noël ouvre samedi"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def put_in_review(desk: Any, post: Post) -> Post:
    """Submitted for approval (the networks' limits checked) by its author."""
    services.submit(desk.actor(desk.author), post)
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    return post


@pytest.fixture
def review(desk: Any, cabinet_workflow: Any) -> tuple[Post, str]:
    """A post with an image in review under a step that allows an external link, and the
    link's token."""
    cabinet_workflow.steps.update(allow_external=True)
    actor = desk.actor(desk.author)
    image = media.save_upload(
        actor, desk.org, SimpleUploadedFile("affiche.png", png()), "L'affiche du marché"
    )
    post = services.save_post(
        actor, desk.org, [VariantInput(source=desk.page, text=TEXT, media=[image])]
    )
    post = put_in_review(desk, post)
    _link, token = services.create_external_link(actor, post, "Mme la maire")
    return post, token


def page(token: str) -> str:
    return f"/p/approve/{token}/"


def english() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def test_the_page_shows_the_post_escaped_with_its_step_and_reader(review: Any) -> None:
    post, token = review
    response = english().get(page(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Le &lt;b&gt;marché&lt;/b&gt; de Noël" in html and "<b>marché</b>" not in html
    assert "Mme la maire" in html and "Cabinet du maire" in html
    asset = post.variants.get().media.get()
    assert sending.media_url(asset).replace("&", "&amp;") in html
    assert "L&#x27;affiche du marché" in html  # the description, as alt text
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"


def test_approving_passes_the_step_once(review: Any) -> None:
    post, token = review
    client = english()
    response = client.post(page(token), {"decision": "approve", "comment": "Parfait"})
    assert response.status_code == 200
    assert "your approval is recorded" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    post.refresh_from_db()
    assert post.state == Post.State.APPROVED and post.approval_current
    given = Approval.objects.get(post=post)
    assert (given.external_name, given.user, given.comment) == ("Mme la maire", None, "Parfait")

    again = client.post(page(token), {"decision": "approve"})
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert client.get(page(token)).status_code == 410
    assert Approval.objects.filter(post=post).count() == 1


def test_sending_back_returns_the_post_to_its_author(review: Any) -> None:
    post, token = review
    response = english().post(page(token), {"decision": "reject", "comment": "Pas ce samedi"})
    assert response.status_code == 200 and "sent back" in response.content.decode()
    post.refresh_from_db()
    assert post.state == Post.State.DRAFT and post.state_reason == "Pas ce samedi"


def test_an_expired_link_is_gone(review: Any) -> None:
    post, token = review
    ExternalApprovalLink.objects.filter(post=post).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = english().get(page(token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This approval link has expired" in html and "marché" not in html
    assert english().post(page(token), {"decision": "approve"}).status_code == 410
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW


def test_a_tampered_token_is_not_found(review: Any) -> None:
    _post, token = review
    response = english().get(page(token[:-2] + ("AA" if not token.endswith("AA") else "BB")))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This approval link is not valid." in html
    assert "marché" not in html and "Mme la maire" not in html
    assert response["Referrer-Policy"] == "no-referrer"


def test_an_address_trying_links_that_do_not_exist_is_slowed_down(review: Any) -> None:
    from beffroi.accounts.throttle import LINK_GUESSES

    _post, token = review
    reader = english()
    for attempt in range(LINK_GUESSES.free_failures):
        assert reader.get(page(f"guess-{attempt}")).status_code == 404
    slowed = reader.get(page("guess-again"))
    assert slowed.status_code == 429 and int(slowed["Retry-After"]) >= 1
    assert "Too many links that do not exist" in slowed.content.decode()
    assert slowed["Referrer-Policy"] == "no-referrer"
    # During the wait even a real link waits, from that address; another address is served.
    assert reader.get(page(token)).status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.7").get(page(token)).status_code == 200
    french = Client(HTTP_ACCEPT_LANGUAGE="fr").get(page("guess-fr"))
    assert "Trop de liens qui n’existent pas" in french.content.decode()


def test_a_link_after_the_post_changed_is_refused(desk: Any, review: Any) -> None:
    post, token = review
    services.save_post(
        desk.actor(desk.author),
        desk.org,
        [VariantInput(source=desk.page, text="Le marché ouvre dimanche")],
        post=post,
    )
    response = english().get(page(token))
    assert response.status_code == 410
    assert "The post changed since this link was made" in response.content.decode()
    response = english().post(page(token), {"decision": "approve"})
    assert response.status_code == 410
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW and not Approval.objects.exists()


def test_the_decision_needs_the_csrf_token_and_the_reader_language_is_used(
    review: Any,
) -> None:
    post, token = review
    guarded = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    assert guarded.post(page(token), {"decision": "approve"}).status_code == 403
    shown = guarded.get(page(token))
    csrf = shown.cookies["csrftoken"].value
    response = guarded.post(page(token), {"decision": "approve", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.state == Post.State.APPROVED
    french = Client(HTTP_ACCEPT_LANGUAGE="fr").get(page(token))
    assert french.status_code == 410
    assert french["Content-Language"] == "fr" and '<html lang="fr">' in french.content.decode()


def test_public_media_is_served_by_its_signed_address_only(review: Any) -> None:
    post, _token = review
    asset = post.variants.get().media.get()
    address = sending.media_url(asset)
    path = address[address.index("/p/media/") :]
    response = Client().get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png()
    signed = path.rstrip("/").rsplit("/", 1)[-1]
    forged = signed[:-3] + ("abc" if not signed.endswith("abc") else "xyz")
    assert Client().get(f"/p/media/{forged}/").status_code == 404
    assert Client().get("/p/media/nothing-signed/").status_code == 404
