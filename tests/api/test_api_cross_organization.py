"""The administrator of organization A calls every API operation with organization B's ids.

The operations are read from the generated OpenAPI document, like the permission matrix; each
is called with the body the matrix builds, and with B's slug or B's object ids. With a token
of A's administrator (every capability in A, none in B):

- B's slug with B's ids: 404;
- A's slug with B's ids in the path: 404;
- A's slug with B's ids as filters (``?item=``, ``?source=``): an empty page;
- A's lists, with B full of objects: nothing of B;
- never B's data in a body, and none of B's rows changed.

A path or query parameter that names an object the probe does not know how to fill with one
of B's fails here, so a new operation cannot escape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from tests.api.test_api_permission_matrix import MATRIX, OPERATIONS, PREFIX, _draft, _pause
from tests.api.test_api_permission_matrix import World as ApiWorld
from tests.cross_org import MARKER, fill_everything, fill_world, fingerprint, owners

# Scoping by organization is the same SQL on every engine; on PostgreSQL it is run through
# the permission matrices' cases kept there (another organization's member on every operation,
# the administrator asking for another organization's object): this probe runs in the
# SQLite pass (tests/conftest.py).
pytestmark = pytest.mark.database_agnostic

#: Path parameters that name an object, and which of B's objects fills each.
PATH_IDS: dict[str, Callable[[Any], Any]] = {
    "item_id": lambda b: b.item,
    "author_id": lambda b: b.author,
    "source_id": lambda b: b.made["remote_source"],
    "member_id": lambda b: b.target_membership,
    "invitation_id": lambda b: b.invitation,
    "job_id": lambda b: b.made["job"],
    # Version numbers count per organization: B's draft is number 2, A has only number 1.
    "number": lambda b: b.charter_draft,
    "conversation_id": lambda b: b.conversation,
    "post_id": _draft,
    "pause_id": _pause,
    "entry_id": lambda b: b.library_draft,
    "brief_id": lambda b: b.brief_draft,
    "delivery_id": lambda b: b.brief_delivery,
}
#: What goes into the address for each of them.
PATH_VALUE = {"number": lambda obj: obj.number}
#: Integer query parameters that filter by one of the organization's objects.
QUERY_IDS: dict[str, Callable[[Any], Any]] = {
    "item": lambda b: b.item,
    "source": lambda b: b.source,
    "account": lambda b: b.source,
}
#: Integer query parameters that name nothing.
QUERY_NUMBERS = {"limit", "offset"}


@cache
def _document() -> dict[str, Any]:
    from beffroi.api.urls import api as ninja_api

    return ninja_api.get_openapi_schema()


def _parameters(method: str, path: str) -> list[dict[str, Any]]:
    operation = _document()["paths"][PREFIX + path][method.lower()]
    return list(operation.get("parameters", []))


def _is_integer(parameter: dict[str, Any]) -> bool:
    return '"integer"' in json.dumps(parameter.get("schema", {}))


def _path_ids(method: str, path: str) -> list[str]:
    return [
        p["name"] for p in _parameters(method, path) if p["in"] == "path" and p["name"] != "slug"
    ]


def _query_ids(method: str, path: str) -> list[str]:
    return [
        p["name"]
        for p in _parameters(method, path)
        if p["in"] == "query" and _is_integer(p) and p["name"] not in QUERY_NUMBERS
    ]


def test_every_parameter_that_names_an_object_is_known() -> None:
    for method, path in OPERATIONS:
        unknown = set(_path_ids(method, path)) - set(PATH_IDS)
        assert not unknown, f"{method} {path}: add {unknown} to PATH_IDS"
        unknown = set(_query_ids(method, path)) - set(QUERY_IDS)
        assert not unknown, f"{method} {path}: add {unknown} to QUERY_IDS"


def _b_world(other_org: Any, org: Any, make_user: Callable[..., Any]) -> Any:
    from beffroi.jobs.models import Job
    from beffroi.sources.models import Source

    b = fill_world(other_org, org, make_user, MARKER)
    b.made["remote_source"] = Source.objects.create(
        organization=other_org, name=f"Mastodon {MARKER}", platform="mastodon"
    )
    b.made["job"] = Job.objects.create(
        name="sources.sync", organization=other_org, payload={"note": MARKER}
    )
    return b


def _matrix_world(b: Any, make_user: Callable[..., Any]) -> ApiWorld:
    from beffroi.organizations.models import Membership
    from beffroi.organizations.roles import Role

    counter = {"n": 0}

    def new_user() -> Any:
        counter["n"] += 1
        return make_user(f"b-newcomer-{counter['n']}")

    def new_member() -> Any:
        return Membership.objects.create(user=new_user(), organization=b.org, role=Role.VIEWER)

    return ApiWorld(
        b.org,
        b.source,
        b.made["remote_source"],
        b.item,
        b.author,
        b.made["job"],
        new_member,
        new_user,
    )


def _assert_nothing_of_b(response: Any, where: str, b: Any) -> None:
    text = response.content.decode(errors="replace")
    for secret in (MARKER, b.org.name):
        assert secret not in text, (where, secret)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_admin_of_a_cannot_reach_b(
    method: str,
    path: str,
    org: Any,
    other_org: Any,
    make_user: Callable[..., Any],
    key_for: Callable[..., str],
    api: Any,
) -> None:
    if "{slug}" not in path:
        return  # not an organization's operation: the permission matrix covers it
    if (method, path) not in MATRIX:
        pytest.fail(f"{method} {path} is not in the permission matrix's MATRIX")
    b = _b_world(other_org, org, make_user)
    _params, body = MATRIX[(method, path)][1](_matrix_world(b, make_user))
    key = key_for(make_user("a-admin", org=org, role="admin"))
    values: dict[str, Any] = {}
    for name in _path_ids(method, path):
        obj = PATH_IDS[name](b)
        assert other_org in owners(obj), f"{name}: not one of B's objects"
        values[name] = PATH_VALUE.get(name, lambda o: o.pk)(obj)
    if "number" in values:
        from beffroi.charter.services import ensure_default_charter

        ensure_default_charter(org)  # A has version 1 of its charter, B versions 1 and 2
    if _query_ids(method, path):
        fill_everything(b, MARKER)  # B's cases and decisions on the item filtered by
    before = fingerprint(other_org)

    slugs = [other_org.slug] + ([org.slug] if values else [])
    for slug in slugs:
        url = PREFIX + path.format(slug=slug, **values)
        response = api.call(method, url, key, body)
        assert response.status_code == 404, (method, url, response.status_code)
        _assert_nothing_of_b(response, url, b)

    for name in _query_ids(method, path):
        url = PREFIX + path.format(slug=org.slug, **values)
        response = api.call(method, url, key, body, **{name: QUERY_IDS[name](b).pk})
        assert response.status_code == 200, (method, url, name, response.status_code)
        assert response.json()["items"] == [], (url, name)
        _assert_nothing_of_b(response, f"{url}?{name}=", b)

    assert fingerprint(other_org) == before, f"{method} {path} changed organization B"


def test_lists_of_a_show_nothing_of_b(
    org: Any,
    other_org: Any,
    make_user: Callable[..., Any],
    key_for: Callable[..., str],
    api: Any,
) -> None:
    b = _b_world(other_org, org, make_user)
    fill_everything(b, MARKER)
    fill_everything(fill_world(org, other_org, make_user), "")
    key = key_for(make_user("a-admin", org=org, role="admin"))
    listed = 0
    for method, path in OPERATIONS:
        if method != "GET" or _path_ids(method, path):
            continue
        url = PREFIX + path.format(slug=org.slug)
        response = api.call(method, url, key)
        assert response.status_code == 200 or path.endswith("/charter"), (url, response.status_code)
        _assert_nothing_of_b(response, url, b)
        listed += 1
    assert listed > 10
