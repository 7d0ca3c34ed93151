"""Hostile addresses stored in every field that can become a link never run, in chromium.

tests/web/hostile.py stores ``javascript:`` (in many disguises), ``data:text/html`` and
``vbscript:`` addresses in items, authors, media, fact-checks, alerts, impersonators,
campaigns, narratives, channels and source settings. Every page that shows them is opened,
every link that leaves the site is clicked, and nothing may run: no dialog, no
``window.__xss``. The links must simply not carry a script address: the
Content-Security-Policy is the second wall, so a violation it reports fails the test too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.csp import csp_violations, watch_csp
from tests.browser.session import verified_session
from tests.browser.test_inbox_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.hostile import store_hostile_urls

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

#: The links on a page that do not lead to another page of this site, as the browser reads
#: them (``protocol`` is what a click would use, after the browser's own clean-up).
OUTBOUND_LINKS = """() => Array.from(document.querySelectorAll('a[href], area[href]'))
  .map((link, index) => ({index, href: link.getAttribute('href'), protocol: link.protocol,
                          sameSite: link.origin === location.origin}))
  .filter((link) => !link.sameSite)"""

WITNESS = (
    "() => window.__xss === undefined && (!window.opener || window.opener.__xss === undefined)"
)


@pytest.fixture
def browser_context(live_server: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR")
        context.set_default_timeout(8000)
        watch_csp(context)
        # Nothing is fetched outside the test server: a followed link gets a blank page.
        context.route(
            lambda url: not url.startswith(live_server.url),
            lambda route: route.fulfill(status=200, content_type="text/plain", body="outside"),
        )
        yield context
        context.close()
        browser.close()


def test_the_witness_sees_a_script_that_runs(live_server: Any) -> None:
    """Without the policy, a javascript: link runs and the witness and dialog see it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_context(bypass_csp=True).new_page()
        dialogs: list[str] = []
        tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        tab.goto(live_server.url + "/accounts/login/")
        tab.evaluate(
            """() => document.body.insertAdjacentHTML('beforeend',
                '<a id="bad" href="javascript:window.__xss=1;alert(1)">x</a>')"""
        )
        tab.click("#bad")
        tab.wait_for_timeout(200)
        assert not tab.evaluate(WITNESS) and dialogs == ["1"]
        browser.close()


def test_hostile_addresses_never_run(
    live_server: Any, browser_context: Any, make_user: Any, org: Any, source: Any
) -> None:
    pages = store_hostile_urls(org, source)
    admin = make_user("maire", org=org, role="admin")
    base = live_server.url
    browser_context.add_cookies(
        [{"name": "sessionid", "value": verified_session(admin), "url": base}]
    )
    tab = browser_context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    popups: list[Any] = []
    browser_context.on("page", lambda popup: popups.append(popup))
    problems: list[str] = []
    clicked = 0
    for page in pages:
        tab.goto(base + page)
        assert tab.locator("main").count() == 1, page
        outbound = tab.evaluate(OUTBOUND_LINKS)
        problems += [
            f"{page}: link to {link['href']!r}"
            for link in outbound
            if link["protocol"] not in ("http:", "https:")
        ]
        for link in outbound:
            tab.locator("a[href], area[href]").nth(link["index"]).click()
            clicked += 1
            tab.wait_for_timeout(50)
            if not tab.evaluate(WITNESS):
                problems.append(f"{page}: {link['href']!r} ran a script")
            problems += csp_violations(tab)
            if tab.url != base + page:
                tab.goto(base + page)
        problems += csp_violations(tab)
        if not tab.evaluate(WITNESS):
            problems.append(f"{page}: a script ran")
    assert clicked, "no outbound link was clicked: the test proves nothing"
    assert not dialogs, dialogs
    assert not popups, [p.url for p in popups]
    assert not problems, "\n".join(problems)
