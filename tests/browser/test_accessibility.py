"""Every page passes an automated WCAG 2.1 AA audit (axe-core) in a real browser.

axe-core (MPL-2.0, vendored in ``vendor/``) is injected into each page of the demo town
as an administrator sees it, and anonymously for the login page. Each page must also report
no Content-Security-Policy violation (tests/browser/csp.py): nothing it needs is refused. Automated checks find
only part of the problems (contrast, names, labels, landmarks, ARIA misuse); keyboard use is
covered by the inbox browser test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.csp import csp_violations, watch_csp
from tests.browser.test_inbox_browser import CHROMIUM, CHROMIUM_ARGS

AXE = Path(__file__).with_name("vendor") / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def town(transactional_db: Any) -> dict[str, Any]:
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from beffroi.demo.load import load_demo
    from beffroi.items.models import Item

    summary = load_demo()
    org = summary.organization
    admin = org.memberships.get(role="admin").user
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    session = SessionStore()
    session["_auth_user_id"] = str(admin.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = admin.get_session_auth_hash()
    session["otp_device_id"] = device.persistent_id
    session.create()
    reply = Item.objects.filter(organization=org, kind="reply").first()
    assert reply is not None
    return {"org": org, "session": session.session_key, "item": reply}


@pytest.fixture
def page(live_server: Any, town: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10000)
        watch_csp(context)
        yield context, live_server.url
        context.close()
        browser.close()


def audit(tab: Any, url: str, inject: str = "") -> list[str]:
    tab.goto(url)
    if inject:
        tab.evaluate("html => document.body.insertAdjacentHTML('beforeend', html)", inject)
    # Evaluated, not added as a <script>: the page's Content-Security-Policy refuses inline
    # scripts, and must stay on while the page is audited.
    tab.evaluate(AXE.read_text())
    result = tab.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    return csp_violations(tab) + [
        f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
    ]


def _charter_urls(org: Any) -> list[str]:
    """The charter pages, with a draft beside the demo town's live version."""
    from beffroi.audit.services import Actor
    from beffroi.charter.services import create_draft, live_version

    live = live_version(org)
    assert live is not None
    draft = create_draft(Actor.system(), org)
    rule = draft.rules.create(category="insult", language="fr", kind="keyword", pattern="malotru")
    category = draft.categories.get(slug="insult")
    slug = org.slug
    return [
        reverse("charter:index", args=[slug]),
        reverse("charter:version", args=[slug, live.pk]),
        reverse("charter:version", args=[slug, draft.pk]),
        reverse("charter:version_edit", args=[slug, draft.pk]),
        reverse("charter:category_create", args=[slug, draft.pk]),
        reverse("charter:category_edit", args=[slug, category.pk]),
        reverse("charter:rules", args=[slug, draft.pk]),
        reverse("charter:rule_create", args=[slug, draft.pk]),
        reverse("charter:rule_edit", args=[slug, rule.pk]),
        reverse("charter:rule_bulk", args=[slug, draft.pk]),
        reverse("charter:import", args=[slug]),
        reverse("charter:diff", args=[slug]) + f"?old={live.number}&new={draft.number}",
    ]


def _veille_urls(org: Any) -> list[str]:
    """The veille pages, after a scan of the demo town (so that every list has rows)."""
    from beffroi.veille.models import Alert, Campaign, ImpersonationFlag, Narrative, Watch
    from beffroi.veille.scan import scan

    scan(org)
    slug = org.slug

    def url(name: str, obj: Any = None) -> str:
        return reverse(f"veille:{name}", args=[slug] if obj is None else [slug, obj.pk])

    return [
        url("dashboard"),
        url("alerts"),
        url("alert", Alert.objects.filter(organization=org, kind="spike").first()),
        url("watches"),
        url("watch", Watch.objects.filter(organization=org).first()),
        url("watch_create"),
        url("narratives"),
        url("narrative", Narrative.objects.filter(organization=org).first()),
        url("claims"),
        url("claim_matches"),
        url("claim_create"),
        url("claims_import"),
        url("campaigns"),
        url("campaign", Campaign.objects.filter(organization=org).first()),
        url("identities"),
        url("identity_create"),
        url("impersonators"),
        url("impersonator", ImpersonationFlag.objects.filter(organization=org).first()),
        url("channels"),
        url("channel_create"),
    ]


def test_pages_pass_the_wcag_aa_audit(page: tuple[Any, str], town: dict[str, Any]) -> None:
    context, base = page
    slug = town["org"].slug
    item = town["item"]
    source = town["org"].sources.first()
    anonymous_context = context.browser.new_context(locale="fr-FR")
    watch_csp(anonymous_context)
    anonymous = anonymous_context.new_page()
    # The audit can fail: an image without a text alternative is caught.
    assert any("image-alt" in p for p in audit(anonymous, base + "/accounts/login/", "<img src=x>"))
    problems = audit(anonymous, base + reverse("accounts:login"))
    problems += audit(anonymous, base + reverse("charter_public:page", args=[slug]))
    problems += audit(anonymous, base + reverse("charter_public:page", args=[slug]) + "?lang=en")
    context.add_cookies([{"name": "sessionid", "value": town["session"], "url": base}])
    tab = context.new_page()
    # A connection that needs the administrator: the alert panel and its actions.
    from beffroi.sources.credentials import raise_alert
    from beffroi.sources.models import ConnectionAlert

    raise_alert(source, ConnectionAlert.Kind.REFUSED, "The access token is invalid.")
    # Invitations: one the administrator may answer, and one the members page lists.
    from beffroi.audit.services import Actor
    from beffroi.organizations.services import create_organization, invite

    admin = town["org"].memberships.get(role="admin").user
    neighbour = create_organization(Actor.system(), slug="voisine", name="Ville voisine")
    invite(Actor.system(), neighbour, admin.get_username(), "analyst")
    invite(Actor(admin, "ui"), town["org"], "nouvelle.recrue@exemple.fr", "viewer")
    urls = [
        reverse("overview:dashboard", args=[slug]),
        reverse("items:inbox", args=[slug]),
        reverse("items:inbox", args=[slug]) + "?kind=comment&q=travaux",
        reverse("items:item", args=[slug, item.pk]),
        reverse("items:author", args=[slug, item.author_id]),
        reverse("sources:list", args=[slug]),
        reverse("sources:create", args=[slug]) + "?platform=mastodon",
        reverse("sources:create", args=[slug]) + "?platform=facebook",
        reverse("sources:create", args=[slug]) + "?platform=telegram",
        reverse("sources:connect_choose", args=[slug]),
        reverse("sources:edit", args=[slug, source.pk]),
        reverse("organizations:settings", args=[slug]),
        reverse("organizations:members", args=[slug]),
        reverse("organizations:audit", args=[slug]),
        reverse("accounts:profile"),
        reverse("invitations:list"),
        *_charter_urls(town["org"]),
        *_veille_urls(town["org"]),
    ]
    for url in urls:
        problems += audit(tab, base + url)
    # The English interface too.
    tab.goto(base + urls[0])
    tab.get_by_role("button", name="EN").click()
    problems += audit(tab, base + urls[0])
    assert not problems, "\n".join(problems)
