"""The publishing desk in a real browser (issue 16), from the library to the inbox.

A publisher of the town hall puts an image in the media library (the page refuses it without
a description, then keeps it with one), writes a post for the town's Mastodon account (a real
account, not a demo one: its connector talks to the loopback fake Mastodon), sees the live
check answer what is typed (a text too long for Mastodon gets the network's problem
sentence), attaches the image and submits the post for tomorrow morning. The cabinet's
approver, named in the organization's workflow, signs in, opens the post and approves it
with ``a``: the post is scheduled. Its time comes (the release and the jobs run here, in the
test): the fake Mastodon receives one status with the image and its description, the post's
page says it is published with the platform's link, the calendar shows it on its day, and
the inbox lists it as an item of the account.

Drives Debian's chromium through Playwright (see ``test_inbox_browser``); axe finds no
serious or critical violation on the composer, the post's page and the calendar. Screenshots
go to ``test-results/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.csp import csp_violations, watch_csp
from tests.browser.test_accessibility import AXE
from tests.browser.test_inbox_browser import (
    CHROMIUM,
    PASSWORD,
    RESULTS,
    browser_page,  # noqa: F401 (fixture)
)
from tests.browser.test_moderation_browser import SLUG, _login
from tests.publishing.support_platform import TimedMastodon

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"
    ),
]

ACCOUNT = "Mairie sur Mastodon"
TITLE = "Marché de Noël"
TEXT = "Le marché de Noël ouvre samedi à 10 h place de la Mairie : chalets, vin chaud, chorale."
ALT = "Des chalets de bois illuminés sur la place de la Mairie, sous la neige."
#: Longer than a Mastodon status (500 characters): the live check says so.
TOO_LONG = "Le marché de Noël ouvre samedi, venez nombreux ! " * 12


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (180, 30, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _french_label(label: Any) -> str:
    """A lazy label (a choice with its own context) as French readers see it."""
    from django.utils import translation

    with translation.override("fr"):
        return str(label)


def _french(text: str) -> str:
    """A sentence of the interface as the French page says it."""
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("fr"):
        return gettext(text)


def _serious(page: Any) -> list[str]:
    """The serious and critical accessibility violations axe finds on the page."""
    page.evaluate(AXE.read_text())
    audit = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in audit["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def mastodon() -> Iterator[TimedMastodon]:
    """The town's Mastodon instance (it records what its account published)."""
    with TimedMastodon(username="mairie", display_name="Mairie de Démo") as fake:
        yield fake


@pytest.fixture
def newsroom(
    transactional_db: Any,
    settings: Any,
    tmp_path: Path,
    live_server: Any,
    mastodon: TimedMastodon,
) -> dict[str, Any]:
    """A town hall with a publisher, an approver named in its one workflow, and its Mastodon
    account on the fake (credentials, not a demo)."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beffroi.audit.services import Actor
    from beffroi.organizations.models import Membership, Organization
    from beffroi.publishing.workflows import StepInput, save_workflow
    from tests.publishing.support_platform import mastodon_source

    settings.MEDIA_ROOT = tmp_path / "media"
    # Mastodon fetches the image at its signed public address: this server's.
    settings.BEFFROI_PUBLIC_URL = live_server.url
    org = Organization.objects.create(slug=SLUG, name="Ville de Démo")
    users, devices = {}, {}
    for username, role in (("lucas", "publisher"), ("elise", "approver")):
        user = get_user_model().objects.create_user(username, password=PASSWORD)
        Membership.objects.create(user=user, organization=org, role=role)
        users[username] = user
        devices[username] = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    source = mastodon_source(org, mastodon, ACCOUNT)
    save_workflow(
        Actor.system(),
        org,
        name="Cabinet du maire",
        steps=[StepInput(name="Cabinet", approvers=[users["elise"]])],
    )
    return {"org": org, "users": users, "devices": devices, "source": source}


def test_a_post_written_approved_and_published_on_mastodon(
    live_server: Any,
    newsroom: dict[str, Any],
    mastodon: TimedMastodon,
    browser_page: Any,  # noqa: F811 (fixture)
) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    from beffroi.connectors.post_limits import DraftVariant
    from beffroi.items.models import Item
    from beffroi.jobs.engine import run_pending
    from beffroi.publishing import limits, services
    from beffroi.publishing.models import MediaAsset, Post, PostVariant

    page = browser_page
    watch_csp(page.context)
    RESULTS.mkdir(exist_ok=True)
    base = f"{live_server.url}/o/{SLUG}/publishing"
    source = newsroom["source"]
    problems: list[str] = []
    _login(page, live_server.url, "lucas", newsroom["devices"]["lucas"])

    # The library refuses an image without its description, and says why beside the field.
    page.goto(f"{base}/media/")
    upload = {"name": "marche-de-noel.png", "mimeType": "image/png", "buffer": _png()}
    page.set_input_files("#id_file", upload)
    page.click("form[enctype] button[type=submit]")
    refusal = page.locator("#id_alt_text_error")
    expect(refusal).to_have_text(
        _french("Describe the image (alt text): people who cannot see it read this description.")
    )
    description = page.locator("#id_alt_text")
    expect(description).to_have_attribute("aria-invalid", "true")
    expect(description).to_have_attribute("aria-describedby", re.compile(r"\bid_alt_text_error\b"))
    assert not MediaAsset.objects.exists()
    # With its description it is kept, and shown with it.
    page.set_input_files("#id_file", upload)
    page.fill("#id_alt_text", ALT)
    page.fill("#id_name", "Affiche du marché")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url(f"{base}/media/")
    expect(page.locator(".messages")).to_contain_text(_french("Saved in the library."))
    expect(page.locator(f'table img[alt="{ALT}"]')).to_have_count(1)
    asset = MediaAsset.objects.get()
    assert asset.alt_text == ALT and asset.organization == newsroom["org"]

    # The composer: the account ticked, a text too long for Mastodon; the check answers
    # while typing, with the network's own sentence.
    page.goto(f"{base}/new/")
    page.check(f"input[name=accounts][value='{source.pk}']")
    page.fill("#id_title", TITLE)
    page.fill("#id_main_text", TOO_LONG)
    check = page.locator(f"#composer-feedback [data-check='{source.pk}']")
    with_french_sentences = [
        _say_in_french(problem)
        for problem in limits.problems_of_draft("mastodon", DraftVariant(text=TOO_LONG.strip()))
    ]
    assert with_french_sentences, "the text must be too long for Mastodon"
    expect(check.locator(".errorlist li")).to_have_text(with_french_sentences)
    expect(check.locator(".badge-error")).to_be_visible()
    # Rewritten, key by key: nothing stops it any more.
    page.fill("#id_main_text", "")
    page.locator("#id_main_text").press_sequentially(TEXT)
    expect(check.locator(".errorlist")).to_have_count(0)
    expect(check.locator(".badge-ok")).to_be_visible()
    # The image from the library, in the account's version; its preview has the description.
    variant = page.locator(f"details[data-variant='{source.pk}']")
    if variant.get_attribute("open") is None:
        variant.locator("summary").click()
    page.check(f"input[name='variant-{source.pk}-assets'][value='{asset.pk}']")
    expect(page.locator(f'#composer-feedback .preview-media img[alt="{ALT}"]')).to_be_visible()
    when = datetime.combine(
        timezone.localdate() + timedelta(days=1),
        time(10, 0),
        tzinfo=timezone.get_current_timezone(),
    )
    page.fill("#id_scheduled_at", when.strftime("%Y-%m-%dT%H:%M"))
    problems += _serious(page)
    page.screenshot(path=str(RESULTS / "publishing-composer.png"), full_page=True)

    # Saved and submitted: it waits for the cabinet.
    page.click("button[name=submit]")
    post = Post.objects.get(title=TITLE)
    page.wait_for_url(f"{base}/{post.pk}/")
    expect(page.locator(".messages")).to_contain_text(_french("Submitted: it waits for approval."))
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW and post.scheduled_at == when
    # Its author is not offered the decision.
    expect(page.locator("[data-post-approve]")).to_have_count(0)

    # The approver signs in, opens it, and approves it from the keyboard.
    page.context.clear_cookies()
    _login(page, live_server.url, "elise", newsroom["devices"]["elise"])
    page.goto(f"{base}/{post.pk}/")
    expect(page.locator("[data-post-approve]")).to_be_visible()
    expect(page.locator(".preview-media img")).to_have_attribute("alt", ALT)
    page.keyboard.press("a")
    expect(page.locator(".messages")).to_contain_text(_french("Approved: the post is scheduled."))
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED and post.approval_current
    expect(page.locator("[data-post-approve]")).to_have_count(0)

    # Its time comes: released, and the publishing job runs (a worker's work, done here).
    assert services.release_due(now=when + timedelta(minutes=1)) == 1
    assert run_pending() >= 1
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHED, post.state
    published = post.variants.get()
    assert published.state == PostVariant.State.PUBLISHED and published.url
    # Mastodon got exactly one status, with the image and its description.
    (status,) = mastodon.published()
    assert status["content"] and "marché de Noël" in status["content"]
    assert [media["description"] for media in status["media"]] == [ALT]
    assert len(mastodon.requests_to("POST", "/api/v1/statuses")) == 1

    # The post's page says so, with the platform's link.
    page.goto(f"{base}/{post.pk}/")
    state = page.locator(".page-head .badge")
    expect(state).to_have_text(_french_label(Post.State.PUBLISHED.label))
    link = page.locator(f"#variant-{published.pk}-state a[href='{published.url}']")
    expect(link).to_have_text(_french("See it on the platform"))
    problems += _serious(page)
    page.screenshot(path=str(RESULTS / "publishing-published.png"), full_page=True)

    # The calendar shows it on its day.
    page.goto(f"{base}/calendar/?date={when.date().isoformat()}")
    day = page.locator(f"td.cal-day[data-date='{when.date().isoformat()}']")
    entry = day.locator(f"li.cal-post[data-post='{post.pk}']")
    expect(entry.locator("a")).to_have_text(TITLE)
    expect(entry.locator(".cal-time")).to_have_text("10:00")
    problems += _serious(page)
    page.screenshot(path=str(RESULTS / "publishing-calendar.png"), full_page=True)

    # The inbox lists the published status as an item of the account.
    item = Item.objects.get(source=source, platform_id=status["id"])
    assert published.item_id == item.pk
    page.goto(f"{live_server.url}/o/{SLUG}/inbox/")
    row = page.locator(f"[data-row-link][href$='/items/{item.pk}/']")
    expect(row).to_have_text(TEXT)

    assert not problems, "\n".join(problems)
    assert csp_violations(page) == []


def _say_in_french(problem: Any) -> str:
    from django.utils import translation

    from beffroi.publishing import limits

    with translation.override("fr"):
        return limits.say(problem)
