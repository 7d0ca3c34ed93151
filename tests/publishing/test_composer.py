"""The composer: a draft with a variant per account, the checks while typing (counted the
network's way, by the server), and the alt text that stops a submission."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.publishing.models import MediaAsset, Post
from beffroi.sources.models import DEMO_SETTING, Source

pytestmark = pytest.mark.django_db


def _login(user: Any, language: str = "en") -> Client:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def make_image(org: Any, name: str = "marche.png", alt_text: str = "") -> MediaAsset:
    content = f"not really a png: {name}".encode()
    asset = MediaAsset(
        organization=org,
        name=name,
        kind=MediaAsset.Kind.IMAGE,
        mime_type="image/png",
        size_bytes=len(content),
        width=1200,
        height=800,
        alt_text=alt_text,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    asset.file.save(name, ContentFile(content), save=False)
    asset.save()
    return asset


def _x_account(org: Any) -> Source:
    return Source.objects.create(
        organization=org, name="Compte X", platform="x", settings={DEMO_SETTING: True}
    )


def test_the_composer_saves_a_draft_with_a_variant_per_account(desk: Any) -> None:
    client = _login(desk.author)
    base = f"/o/{desk.org.slug}/publishing/"
    page = client.get(base + "new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Page (Facebook)" in html and "Mastodon (Mastodon)" in html
    response = client.post(
        base + "new/",
        {
            "title": "Marché du samedi",
            "accounts": [desk.page.pk, desk.mastodon.pk],
            "main_text": "Le marché est ouvert samedi.",
            f"variant-{desk.mastodon.pk}-text": "Marché samedi #Ville",
            "labels": "marché, vie locale",
            "campaign": "Été",
            "save": "1",
        },
    )
    post = Post.objects.get(organization=desk.org)
    assert response.status_code == 302
    assert response["Location"] == f"{base}{post.pk}/"
    assert post.state == Post.State.DRAFT
    assert post.title == "Marché du samedi"
    assert post.author == desk.author
    texts = {variant.source_id: variant.text for variant in post.variants.all()}
    # An account left empty takes the main text; the other keeps its own.
    assert texts == {
        desk.page.pk: "Le marché est ouvert samedi.",
        desk.mastodon.pk: "Marché samedi #Ville",
    }
    assert sorted(post.labels.values_list("name", flat=True)) == ["marché", "vie locale"]
    assert AuditEvent.objects.filter(action="post.create", object_id=str(post.pk)).exists()
    followed = client.get(response["Location"]).content.decode()
    assert "Draft saved." in followed

    # Edited: the composer starts from what was saved.
    edit = client.get(f"{base}{post.pk}/edit/").content.decode()
    assert "Marché samedi #Ville" in edit and "Le marché est ouvert samedi." in edit


def test_the_composer_refuses_a_post_without_account(desk: Any) -> None:
    client = _login(desk.author)
    response = client.post(
        f"/o/{desk.org.slug}/publishing/new/", {"main_text": "Bonjour", "save": "1"}
    )
    assert response.status_code == 200
    assert "Choose at least one account to publish from." in response.content.decode()
    assert not Post.objects.exists()


def test_the_live_check_counts_the_network_way_and_says_what_is_wrong(desk: Any) -> None:
    x_account = _x_account(desk.org)
    image = make_image(desk.org)
    client = _login(desk.author)
    url = f"/o/{desk.org.slug}/publishing/check/"

    fits = client.post(url, {"accounts": [x_account.pk], "main_text": "a" * 280})
    assert fits.status_code == 200
    assert "280 of 280" in fits.content.decode() and "Too long" not in fits.content.decode()

    too_long = client.post(
        url,
        {
            "accounts": [x_account.pk],
            "main_text": "a" * 281,
            f"variant-{x_account.pk}-assets": [image.pk],
        },
    ).content.decode()
    assert "Too long for X: 281 counted, 280 allowed." in too_long
    assert "Image 1 has no text alternative" in too_long
    # The preview shows the image with its (empty) description as its alternative.
    assert 'alt=""' in too_long and "This image has no description." in too_long

    # X weighs a CJK character 2: 141 of them pass 280 though the text has 141 characters.
    weighted = client.post(url, {"accounts": [x_account.pk], "main_text": "字" * 141}).content
    assert "Too long for X: 282 counted, 280 allowed." in weighted.decode()

    # An account's own text replaces the main text for it only.
    own = client.post(
        url,
        {
            "accounts": [x_account.pk, desk.mastodon.pk],
            "main_text": "a" * 281,
            f"variant-{desk.mastodon.pk}-text": "Court.",
        },
    ).content.decode()
    assert "Too long for X" in own and "Too long for Mastodon" not in own
    assert "6 of 500" in own


def test_the_live_check_is_for_publishers_only(desk: Any, make_user: Any) -> None:
    viewer = make_user("vera", org=desk.org, role="viewer")
    response = _login(viewer).post(
        f"/o/{desk.org.slug}/publishing/check/", {"accounts": [desk.page.pk], "main_text": "a"}
    )
    assert response.status_code == 403


def test_an_image_without_alt_text_stops_submit_until_described(
    desk: Any, cabinet_workflow: Any
) -> None:
    image = make_image(desk.org)
    client = _login(desk.author)
    base = f"/o/{desk.org.slug}/publishing/"
    response = client.post(
        base + "new/",
        {
            "accounts": [desk.page.pk],
            "main_text": "Le nouveau parc est ouvert.",
            f"variant-{desk.page.pk}-assets": [image.pk],
            "submit": "1",
        },
        follow=True,
    )
    post = Post.objects.get(organization=desk.org)
    assert post.state == Post.State.DRAFT  # saved, not submitted
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"{base}{post.pk}/edit/"
    assert "The post cannot go further: fix what is said under each account." in html
    # Beside the image: why, and where to describe it.
    assert "No description: the post cannot be submitted with this image until it has one." in html
    assert "Image 1 has no text alternative" in html

    refused = client.post(f"{base}{post.pk}/submit/", follow=True)
    post.refresh_from_db()
    assert post.state == Post.State.DRAFT
    assert "The post cannot go further" in refused.content.decode()

    MediaAsset.objects.filter(pk=image.pk).update(alt_text="Des enfants jouent dans le parc.")
    accepted = client.post(f"{base}{post.pk}/submit/", follow=True)
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW
    assert "Submitted: it waits for approval." in accepted.content.decode()
    assert 'alt="Des enfants jouent dans le parc."' in accepted.content.decode()


def test_save_and_submit_without_workflow_approves_at_once(desk: Any) -> None:
    client = _login(desk.author)
    response = client.post(
        f"/o/{desk.org.slug}/publishing/new/",
        {
            "accounts": [desk.mastodon.pk],
            "main_text": "Fermeture de la mairie lundi.",
            "scheduled_at": "2031-06-02T09:30",
            "submit": "1",
        },
        follow=True,
    )
    post = Post.objects.get(organization=desk.org)
    assert post.state == Post.State.SCHEDULED
    assert "No approval is needed for these accounts: the post is scheduled." in (
        response.content.decode()
    )
    # Entered in the organization's local time (Europe/Paris: UTC+2 in June).
    assert post.scheduled_at is not None
    assert post.scheduled_at.isoformat() == "2031-06-02T07:30:00+00:00"


def test_media_of_another_organization_cannot_be_attached(desk: Any, other_org: Any) -> None:
    foreign = make_image(other_org, alt_text="Ailleurs")
    client = _login(desk.author)
    response = client.post(
        f"/o/{desk.org.slug}/publishing/new/",
        {
            "accounts": [desk.page.pk],
            "main_text": "Bonjour",
            f"variant-{desk.page.pk}-assets": [foreign.pk],
            "save": "1",
        },
    )
    # Not among the library's files: the form refuses the choice, nothing is saved.
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Post.objects.exists()


def test_counter_speech_is_proposed_from_an_item_and_written_as_such(
    desk: Any, verified_client: Any
) -> None:
    from beffroi.items.models import Author, Item
    from beffroi.publishing.models import Post

    author = Author.objects.create(
        organization=desk.org, platform="facebook", platform_id="troll", handle="troll"
    )
    item = Item.objects.create(
        organization=desk.org,
        source=desk.page,
        platform="facebook",
        platform_id="hoax-1",
        kind="comment",
        author=author,
        text="L'eau du robinet est empoisonnée <b>partagez</b>",
        created_at=timezone.now(),
    )
    client = verified_client(desk.author)
    page = client.get(f"/o/{desk.org.slug}/items/{item.pk}/")
    assert f"/o/{desk.org.slug}/publishing/new/?counter_speech={item.pk}" in page.content.decode()
    compose = client.get(
        f"/o/{desk.org.slug}/publishing/new/?counter_speech={item.pk}", HTTP_ACCEPT_LANGUAGE="en"
    )
    body = compose.content.decode()
    assert "Counter-speech to this item" in body and "&lt;b&gt;partagez" in body
    client.post(
        f"/o/{desk.org.slug}/publishing/new/",
        {
            "counter_speech": item.pk,
            "title": "Eau potable",
            "accounts": [desk.page.pk],
            "main_text": "L'eau est contrôlée chaque semaine : elle est potable.",
        },
    )
    post = Post.objects.get(title="Eau potable")
    assert (post.kind, post.in_reply_to_id) == (Post.Kind.COUNTER_SPEECH, item.pk)


def test_another_organizations_item_cannot_be_countered(
    desk: Any, other_org: Any, verified_client: Any
) -> None:
    from beffroi.items.models import Author, Item
    from beffroi.sources.models import Source

    source = Source.objects.create(organization=other_org, name="P", platform="facebook")
    author = Author.objects.create(
        organization=other_org, platform="facebook", platform_id="x", handle="x"
    )
    item = Item.objects.create(
        organization=other_org,
        source=source,
        platform="facebook",
        platform_id="o1",
        kind="comment",
        author=author,
        text="secret",
        created_at=timezone.now(),
    )
    client = verified_client(desk.author)
    assert (
        client.get(f"/o/{desk.org.slug}/publishing/new/?counter_speech={item.pk}").status_code
        == 404
    )
