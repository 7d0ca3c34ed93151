"""Numbers in addresses and queries have bounds in the description, and out of them: 422.

An offset or an id past what the database holds used to reach its driver and answer 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from beffroi.api.schemas import MAX_ID, MAX_LIMIT, MAX_OFFSET
from beffroi.api.urls import api as ninja_api

PREFIX = "/api/v1"
TOO_LARGE = 2**63


def _integer_parameters() -> list[tuple[str, str, dict[str, Any]]]:
    """``(method path, name, schema)`` of every integer path or query parameter."""
    found = []
    for path, item in ninja_api.get_openapi_schema()["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                for branch in schema.get("anyOf", [schema]):
                    if branch.get("type") == "integer":
                        found.append((f"{method.upper()} {path}", parameter["name"], branch))
    return found


INTEGERS = _integer_parameters()
PAGINATED = sorted(
    {where.split(" ", 1)[1].removeprefix(PREFIX) for where, name, _ in INTEGERS if name == "offset"}
)


def test_every_integer_parameter_is_bounded_in_the_description() -> None:
    assert len(INTEGERS) > 20
    for where, name, schema in INTEGERS:
        assert "minimum" in schema and "maximum" in schema, (where, name)
        assert schema["maximum"] <= MAX_ID, (where, name)


def test_the_ten_paginated_lists() -> None:
    assert len(PAGINATED) >= 10, PAGINATED


@pytest.fixture
def admin_key(org: Any, member_key: Callable[..., str]) -> str:
    return member_key(org, "admin")


def _refused(response: Any, location: str, name: str) -> None:
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert [entry["loc"] for entry in detail] == [[location, name]], detail


@pytest.mark.parametrize("path", PAGINATED)
def test_offset_past_the_bound_is_refused(path: str, org: Any, admin_key: str, api: Any) -> None:
    url = path.format(slug=org.slug).lstrip("/")
    _refused(api.get(url, admin_key, offset=TOO_LARGE), "query", "offset")
    _refused(api.get(url, admin_key, offset=MAX_OFFSET + 1), "query", "offset")
    _refused(api.get(url, admin_key, offset=-1), "query", "offset")
    _refused(api.get(url, admin_key, limit=MAX_LIMIT + 1), "query", "limit")
    response = api.get(url, admin_key, offset=MAX_OFFSET, limit=MAX_LIMIT)
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "name"), [("items", "source"), ("decisions", "item"), ("cases", "item")]
)
def test_id_filters_past_the_bound_are_refused(
    path: str, name: str, org: Any, admin_key: str, api: Any
) -> None:
    url = f"orgs/{org.slug}/{path}"
    _refused(api.get(url, admin_key, **{name: TOO_LARGE}), "query", name)
    _refused(api.get(url, admin_key, **{name: 0}), "query", name)
    response = api.get(url, admin_key, **{name: MAX_ID})
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "items/{}", "item_id"),
        ("GET", "authors/{}", "author_id"),
        ("PATCH", "sources/{}", "source_id"),
        ("POST", "sources/{}/sync", "source_id"),
        ("GET", "jobs/{}", "job_id"),
        ("PATCH", "members/{}", "member_id"),
        ("DELETE", "members/{}", "member_id"),
        ("GET", "charter/versions/{}/yaml", "number"),
    ],
)
def test_ids_in_paths_past_the_bound_are_refused(
    method: str, path: str, name: str, org: Any, admin_key: str, api: Any
) -> None:
    body = {"role": "viewer"} if name == "member_id" else {}
    for value in (TOO_LARGE, 0):
        response = api.call(method, f"orgs/{org.slug}/{path.format(value)}", admin_key, body)
        _refused(response, "path", name)
    response = api.call(method, f"orgs/{org.slug}/{path.format(2**31 - 1)}", admin_key, body)
    assert response.status_code == 404, response.content


def test_dates_are_iso_8601(org: Any, admin_key: str, api: Any) -> None:
    url = f"orgs/{org.slug}/items"
    _refused(api.get(url, admin_key, until="0.5"), "query", "until")
    _refused(api.get(url, admin_key, since="1700000000"), "query", "since")
    for value in ("2025-01-31T08:00:00+01:00", "2025-01-31T08:00:00Z", "2025-01-31"):
        assert api.get(url, admin_key, since=value).status_code == 200, value
    # An offset PostgreSQL refuses is converted first; a moment before year 1 in UTC is not.
    assert api.get(url, admin_key, until="1387-08-25T07:20:25.4+17:51").status_code == 200
    _refused(api.get(url, admin_key, until="0001-01-01T00:00:00+01:00"), "query", "until")
    _refused(api.get(url, admin_key, since="9999-12-31T23:59:59-01:00"), "query", "since")


@pytest.mark.parametrize(
    "content",
    [
        ["1387-08-25T07:20:25+17:51", 1],
        ["0001-01-01T00:00:00+01:00", 1],
        ["2025-01-01T00:00:00Z", 2**63],
    ],
)
def test_crafted_cursors_are_refused_or_read(
    content: list[Any], org: Any, admin_key: str, api: Any
) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(json.dumps(content).encode()).decode()
    response = api.get(f"orgs/{org.slug}/items", admin_key, cursor=cursor)
    assert response.status_code in {200, 422}, response.content
    if content[1] == 2**63 or content[0].startswith("0001"):
        _refused(response, "query", "cursor")


def test_bounds_are_in_the_description() -> None:
    document = json.dumps(ninja_api.get_openapi_schema())
    assert f'"maximum": {MAX_ID}' in document
    assert f'"maximum": {MAX_OFFSET}' in document


def test_nul_characters_are_refused_before_the_database(org: Any, admin_key: str, api: Any) -> None:
    # PostgreSQL can neither store nor compare them: they used to answer 500 there.
    for path, name in [
        ("items", "q"),
        ("items", "language"),
        ("audit", "action"),
        ("alerts", "kind"),
    ]:
        _refused(api.get(f"orgs/{org.slug}/{path}", admin_key, **{name: "a\x00b"}), "query", name)
    assert api.get("orgs/ville\x00test/items", admin_key).status_code == 404
    response = api.post(
        f"orgs/{org.slug}/sources", admin_key, {"name": "a\x00b", "platform": "file"}
    )
    assert response.status_code == 400, response.content
    assert not org.sources.exists()


def test_lone_surrogates_in_a_body_are_refused_before_the_database(
    org: Any, admin_key: str, api: Any
) -> None:
    # Half of a UTF-16 pair is valid JSON (\ud800) but no database stores it: it was a 500.
    response = api.post(
        f"orgs/{org.slug}/sources", admin_key, {"name": "a\ud800b", "platform": "file"}
    )
    assert response.status_code == 400, response.content
    assert not org.sources.exists()
