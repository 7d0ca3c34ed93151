"""The Content-Security-Policy in chromium: the pages that are not ours still work under it.

Beffroi's own pages are checked for violations by the accessibility walk
(test_accessibility.py); here, the API documentation (Swagger UI, django-ninja's files) and
the Django admin, and the recorder itself.
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def tab(live_server: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="fr-FR")
        context.set_default_timeout(10000)
        watch_csp(context)
        yield context.new_page()
        context.close()
        browser.close()


def test_api_documentation_and_admin_work_under_the_policy(
    live_server: Any, tab: Any, make_user: Any, source: Any
) -> None:
    from beffroi.items.models import Item
    from tests.web.factories import make_author, make_item

    base = live_server.url
    item = make_item(source, make_author(source.organization, "ann"), "p1", raw={"id": "p1"})
    # The recorder sees what the policy refuses: an inline style is reported.
    tab.goto(base + "/accounts/login/")
    tab.evaluate("() => document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">')")
    tab.wait_for_function("() => window.__cspViolations.length > 0")
    assert "style-src" in csp_violations(tab)[0]

    tab.goto(base + "/api/v1/docs")
    # Swagger UI rendered the OpenAPI document it fetched from this server.
    tab.locator(".swagger-ui .info .title").filter(
        has_text="Beffroi"
    )  # "API Beffroi" in French.wait_for()
    tab.locator(".opblock").first.wait_for()
    problems = csp_violations(tab)

    superuser = make_user("root", is_superuser=True, is_staff=True)
    tab.context.add_cookies(
        [{"name": "sessionid", "value": verified_session(superuser), "url": base}]
    )
    for page in (
        "/django-admin/",
        "/django-admin/items/item/",
        f"/django-admin/items/item/{item.pk}/change/",
    ):
        tab.goto(base + page)
        tab.locator("#content").wait_for()
        problems += csp_violations(tab)
    assert Item.objects.count() == 1
    assert not problems, "\n".join(problems)
