"""The administrator of organization A probes every page with organization B's addresses.

The URL patterns are read from the project's resolver, like the permission matrix, and each
is filled the way the matrix's ``ORG_PAGES`` / ``OTHER_PAGES`` say, but with B's slug and the
ids of B's objects. Logged in as A's administrator (every capability in A, none in B):

- B's slug with B's ids, by GET and by POST: 404;
- outside organizations, another person's object (a token, an invitation): 404;
- A's slug with B's ids substituted into A's address, by GET and by POST: 404 (or 405 for the
  method a POST-only action refuses before looking anything up);
- A's slug where the address has no id, and A's own object where it has one, with a form
  that names B's objects (merge into B's narrative, decide B's cases…): never a server error;
- never B's data in a body, and none of B's rows changed (``fingerprint``);
- with B full of objects, none of A's pages shows anything of B.

A pattern whose address takes a value the matrix cannot fill with one of B's objects fails
here, so a new view cannot escape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from tests.cross_org import MARKER, fill_everything, fill_world, fingerprint, owners
from tests.web.test_permission_matrix import (
    ORG_PAGES,
    OTHER_PAGES,
    ROUTES,
    Page,
    Route,
    _login,
    local_day,
)

# Scoping by organization is the same SQL on every engine; on PostgreSQL it is run through
# the permission matrices' cases kept there (another organization's member on every page,
# the administrator asking for another organization's object): this probe runs in the
# SQLite pass (tests/conftest.py).
pytestmark = pytest.mark.database_agnostic

#: Pages outside organizations that take a value and are public by design (the charter an
#: organization publishes): nothing of B is private there. The publishing desk's addresses
#: opened by a signed token (an approval link, a library file fetched by a platform, the
#: calendar feed) show what their token opens to whoever holds it: the key is the token, a
#: forged or outdated one answers 404 (tests/publishing).
PUBLIC_BY_DESIGN = {
    "charter_public:page",
    "publishing_public:approve",
    "publishing_public:media",
    "publishing_public:calendar_feed",
}

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def address_values(route: Route) -> dict[str, str]:
    """The values the pattern takes: ``{name: converter}``."""
    return {m["name"]: m["converter"] or "str" for m in _CONVERTER.finditer(route.route)}


def _ids(route: Route) -> set[str]:
    return {name for name, converter in address_values(route).items() if converter == "int"}


PROBED = [
    route
    for route in ROUTES
    if route.org_scoped or (address_values(route) and route.name not in PUBLIC_BY_DESIGN)
]


def _page(route: Route) -> Page:
    if route.org_scoped:
        if route.name not in ORG_PAGES:
            pytest.fail(f"No way to fill {route.name} ({route.route}): add it to ORG_PAGES")
        return ORG_PAGES[route.name]
    if route.name not in OTHER_PAGES:
        pytest.fail(f"No way to fill {route.name} ({route.route}): add it to OTHER_PAGES")
    return OTHER_PAGES[route.name][0]


def test_every_value_in_an_address_is_filled_with_b() -> None:
    for route in PROBED:
        page = _page(route)
        ids = _ids(route)
        assert ids <= {"pk"}, f"{route.name}: ids other than pk: {ids}"
        if ids:
            assert page.pk is not None, f"{route.name}: the matrix gives no object for {ids}"
        else:
            assert page.pk is None, route.name


def _text(response: Any) -> str:
    """The body as text (streamed exports included; a PDF's text is compressed: skipped)."""
    if response.get("Content-Type", "").startswith(("text/", "application/json")):
        return response.getvalue().decode(errors="replace")
    return ""


@pytest.mark.django_db
@pytest.mark.parametrize("route", PROBED, ids=lambda r: r.name)
def test_admin_of_a_cannot_reach_b(
    route: Route, org: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    page = _page(route)
    b = fill_world(other_org, org, make_user, MARKER)
    kwargs = page.kwargs(b, route.org_scoped)
    if page.pk is not None and route.org_scoped:
        assert other_org in owners(getattr(b, page.pk)), f"{page.pk} is not one of B's objects"
    missing = set(address_values(route)) - set(kwargs)
    assert not missing, f"{route.name}: no value for {missing}"
    data = page.data(b)
    client = _login(make_user("a-admin", org=org, role="admin"))
    before = fingerprint(other_org)

    addresses: list[tuple[str, dict[str, Any]]] = []
    if route.org_scoped:
        addresses.append(("B's slug", kwargs))
        addresses.append(("A's slug", kwargs | {"org_slug": org.slug}))
    else:
        addresses.append(("B's ids", kwargs))
    has_ids = bool(_ids(route))
    for label, values in addresses:
        url = reverse(route.name, kwargs=values)
        for method in ("GET", "POST"):
            call = client.post if method == "POST" else client.get
            response = call(url, data)
            where = f"{method} {url} ({label})"
            if label == "B's slug" or has_ids:
                allowed = {404} if method == page.method else {404, 405}
                assert response.status_code in allowed, (where, response.status_code)
            else:
                assert response.status_code < 500, (where, response.status_code)
            body = _text(response)
            for secret in (MARKER, other_org.name):
                assert secret not in body, (where, secret)
    if has_ids and page.method == "POST":
        a = fill_world(org, other_org, make_user)
        if page.data(a) != data:  # the form names objects: A's address, B's objects
            url = reverse(route.name, kwargs=page.kwargs(a, route.org_scoped))
            response = client.post(url, data)
            assert response.status_code < 500, (url, response.status_code)
            for secret in (MARKER, other_org.name):
                assert secret not in _text(response), (url, secret)
    assert fingerprint(other_org) == before, f"{route.name} changed organization B"


@pytest.mark.django_db
def test_pages_of_a_show_nothing_of_b(
    org: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    fill_everything(fill_world(other_org, org, make_user, MARKER), MARKER)
    a = fill_world(org, other_org, make_user)
    fill_everything(a, "")
    client = _login(make_user("a-admin", org=org, role="admin"))
    shown = 0
    for route in ROUTES:
        page = ORG_PAGES.get(route.name)
        if not route.org_scoped or page is None or page.method != "GET":
            continue
        url = reverse(route.name, kwargs=page.kwargs(a, True))
        response = client.get(url, page.data(a))
        assert response.status_code == 200, (url, response.status_code)
        for secret in (MARKER, other_org.name):
            assert secret not in _text(response), (url, secret)
        shown += 1
    assert shown > 30


@pytest.mark.django_db
def test_publishing_forms_naming_b_objects_are_refused(
    org: Any, other_org: Any, make_user: Callable[..., Any]
) -> None:
    """A's pages of the publishing desk, posted with B's objects in their forms: B's post is
    not found, B's item is not answered, B's account, image, label and members are not
    choices; nothing is written, in A or in B."""
    from beffroi.publishing.models import ApprovalWorkflow, Pause, Post

    b = fill_world(other_org, org, make_user, MARKER)
    fill_everything(b, MARKER)
    theirs = b.publishing_account
    a = fill_world(org, other_org, make_user)
    ours = a.publishing_account
    client = _login(make_user("a-admin", org=org, role="admin"))
    before = fingerprint(other_org)

    def url(name: str) -> str:
        return reverse(name, args=[org.slug])

    calendar_move = client.post(
        url("publishing:calendar_move"), {"post": b.scheduled_post.pk, "date": local_day(4)}
    )
    assert calendar_move.status_code == 404
    assert client.get(url("publishing:create"), {"counter_speech": b.item.pk}).status_code == 404
    refused = {
        "B's account": client.post(
            url("publishing:create"),
            {"accounts": [theirs.pk], "main_text": "Bonjour", "save": "1"},
        ),
        "B's image": client.post(
            url("publishing:create"),
            {
                "accounts": [ours.pk],
                "main_text": "Bonjour",
                f"variant-{ours.pk}-assets": [b.media.pk],
                "save": "1",
            },
        ),
        "B's account paused": client.post(
            url("publishing:pause"),
            {"scope": "source", "source": theirs.pk, "reason": "Crise", "confirm": "on"},
        ),
        "B's account and approver": client.post(
            url("publishing:workflow_create"),
            {
                "name": "Cabinet",
                "source": theirs.pk,
                "for_posts": "on",
                "steps-TOTAL_FORMS": "1",
                "steps-INITIAL_FORMS": "0",
                "steps-0-name": "Cabinet",
                "steps-0-rule": "any",
                "steps-0-required": "1",
                "steps-0-approvers": [b.writer.pk],
                "steps-0-ORDER": "1",
            },
        ),
    }
    for what, response in refused.items():
        assert response.status_code in {200, 400}, (what, response.status_code)
        assert b"errorlist" in response.content, what
        for secret in (MARKER, other_org.name):
            assert secret not in _text(response), (what, secret)
    assert not Post.objects.for_org(org).filter(title="Bonjour").exists()
    assert not Pause.objects.for_org(org).exists()
    assert not ApprovalWorkflow.objects.for_org(org).exists()
    assert fingerprint(other_org) == before
