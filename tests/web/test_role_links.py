"""Every role sees only what it may do: no link it may not follow, no button it may not press.

On the demo town (moderated, scanned, its desk and its publishing loaded), each role's member
starts from the dashboard and follows the organization's links two pages deep. On every page
opened, each link and each form must lead to a view the role's capabilities allow (the view's
``required_capability``, set by ``org_view``, and for a form the further capability the view
checks inside, as the permission matrix's ``FURTHER_CAPABILITIES`` says: every member reads a
post, only who writes or approves posts is shown the comment form); one address of each view
is also opened and must answer something other than 403. Nothing is posted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from beffroi.organizations.roles import ROLE_CAPABILITIES, Capability
from tests.conftest import ROLES
from tests.web.test_permission_matrix import FURTHER_CAPABILITIES

# The same on every engine: the SQLite pass runs it (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_agnostic]

#: Views not opened: leaving the session, the language switch (a POST form).
SKIPPED_VIEWS = {"accounts:logout", "set_language"}
#: How deep the walk follows links from the dashboard (its links' pages are opened too).
DEPTH = 3


class _Links(HTMLParser):
    """The ``href`` of each link and the ``action`` of each POST form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        elif tag == "form" and (values.get("method") or "get").lower() == "post":
            self.forms.append(values.get("action") or "")


def _internal(url: str, page: str) -> str | None:
    """The path of an address of this site (``None`` for another site, an anchor, mailto)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("#") or not url:
        return None
    if not parts.path:
        return page
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _view(path: str) -> tuple[str, Capability | None] | None:
    """The view an address leads to and the capability it requires (``None``: none)."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name, getattr(match.func, "required_capability", None)


@dataclass
class PageCheck:
    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def check_page(html: str, path: str, role: str) -> PageCheck:
    """What a page offers ``role`` that its capabilities do not allow, and its links."""
    allowed = ROLE_CAPABILITIES[role]
    parser = _Links()
    parser.feed(html)
    check = PageCheck()
    for kind, addresses in (("link", parser.links), ("button", parser.forms)):
        for address in addresses:
            target = _internal(address, path)
            found = _view(target) if target else None
            if target is None or found is None:
                continue
            name, needed = found
            if needed is not None and needed not in allowed:
                check.problems.append(
                    f"{role}: {path} shows a {kind} to {target} ({name}), which needs '{needed}'"
                )
            further = FURTHER_CAPABILITIES.get(name) if kind == "button" else None
            if further is not None and not further & allowed:
                check.problems.append(
                    f"{role}: {path} shows a {kind} to {target} ({name}), which needs one of "
                    + ", ".join(sorted(f"'{capability}'" for capability in further))
                )
            if kind == "link":
                check.links.append(target)
    return check


def walk(client: Any, start: str, role: str) -> tuple[list[str], set[str]]:
    """The problems met on the walk from ``start``, and the views opened."""
    problems: list[str] = []
    opened: set[str] = set()
    queue: deque[tuple[str, str, int]] = deque([(start, "", 0)])

    def open_page(path: str, came_from: str) -> Any | None:
        found = _view(path)
        if found is None or found[0] in opened or found[0] in SKIPPED_VIEWS:
            return None
        opened.add(found[0])
        response = client.get(path)
        if response.status_code == 403:
            problems.append(f"{role}: {path} ({found[0]}) linked from {came_from} answers 403")
            return None
        if response.status_code != 200:
            return None
        if not response.get("Content-Type", "").startswith("text/html"):
            return None
        return response

    while queue:
        path, came_from, depth = queue.popleft()
        response = open_page(path, came_from)
        if response is None:
            continue
        check = check_page(response.content.decode(), path, role)
        problems.extend(check.problems)
        for link in check.links:
            if depth + 1 < DEPTH:
                queue.append((link, path, depth + 1))
            else:
                # The last level is opened (403 or not), its own links still checked.
                last = open_page(link, path)
                if last is not None:
                    problems.extend(check_page(last.content.decode(), link, role).problems)
    return problems, opened


def _unique(problems: Iterable[str]) -> list[str]:
    return sorted(set(problems))


@pytest.fixture(scope="module")
def demo_town(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from beffroi.demo.desk import load_demo_desk
    from beffroi.demo.load import load_demo
    from beffroi.demo.publishing import load_demo_publishing
    from beffroi.moderation.services import moderate_items
    from beffroi.veille.scan import scan

    with django_db_blocker.unblock():
        summary = load_demo()
        org = summary.organization
        items = list(org.items.select_related("source", "author").order_by("id"))
        moderate_items(items)
        scan(org)
        load_demo_desk(org)
        load_demo_publishing(org)
        yield org
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("role", ROLES)
def test_no_role_is_shown_a_link_or_button_it_may_not_use(
    role: str,
    demo_town: Any,
    verified_client: Callable[[Any], Any],
) -> None:
    user = demo_town.memberships.get(role=role).user
    client = verified_client(user)
    problems, opened = walk(client, f"/o/{demo_town.slug}/", role)
    assert len(opened) >= 8, f"the walk opened only {sorted(opened)}"
    assert not problems, "\n".join(_unique(problems))


def test_the_check_finds_a_forbidden_link_and_button() -> None:
    """A page offering a viewer the review queue and a decision is reported (it can fail)."""
    html = (
        '<a href="/o/x/moderation/queue/">q</a> <a href="/o/x/inbox/">i</a>'
        '<form method="post" action="/o/x/moderation/cases/1/take/"></form>'
        '<a href="https://example.org/">out</a> <a href="#top">top</a>'
    )
    check = check_page(html, "/o/x/", "viewer")
    assert len(check.problems) == 2
    assert "moderation:queue" in check.problems[0] and "'moderate'" in check.problems[0]
    assert "button" in check.problems[1] and "moderation:case_take" in check.problems[1]
    assert check.links == ["/o/x/moderation/queue/", "/o/x/inbox/"]
    assert not check_page(html, "/o/x/", "moderator").problems


def test_the_check_finds_a_form_whose_view_checks_a_further_capability() -> None:
    """A post's page (every member reads it) offering a viewer the comment form is reported;
    the link to the post and the form shown to an approver are not."""
    html = (
        '<a href="/o/x/publishing/1/">p</a>'
        '<form method="post" action="/o/x/publishing/1/comment/"></form>'
    )
    problems = check_page(html, "/o/x/publishing/", "viewer").problems
    assert len(problems) == 1 and "publishing:comment" in problems[0], problems
    assert "'approve'" in problems[0] and "'publish'" in problems[0]
    assert not check_page(html, "/o/x/publishing/", "approver").problems
