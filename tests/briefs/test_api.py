"""Briefs in the JSON API: the sender prepares and sends, the partner reads the brief in its
desk and declares an answer, the sender reads it back; the signed files both ways; refusals
as 400 and 409; another organization's brief is 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from beffroi.briefs.models import BriefResponse
from tests.api.conftest import ApiClient
from tests.briefs import factories
from tests.briefs.conftest import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> ApiClient:
    # The sentences read in English (the project speaks French by default).
    return ApiClient(Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en"))


def _key(user: Any) -> str:
    from beffroi.accounts.models import ApiToken

    return ApiToken.issue(user, "test")[1]


def test_prepare_send_answer_and_read_back(
    cell: Desk, asso: Desk, town: Desk, api: ApiClient
) -> None:
    item = factories.hoax_item(cell.org)
    base = f"orgs/{cell.org.slug}/briefs"
    body = {
        "title": "Rumeur de l'eau empoisonnée",
        "dos": ["Citer les analyses"],
        "posts": [{"item": item.pk}, {"url": "https://x.example/status/77"}],
    }
    assert api.post(base, _key(cell.publisher), body).status_code == 403
    created = api.post(base, _key(cell.approver), body)
    assert created.status_code == 201, created.content
    brief = created.json()
    assert brief["state"] == "draft" and [p["platform_id"] for p in brief["posts"]] == [
        factories.HOAX_ID,
        "",
    ]
    # An item of another organization, a missing title: 400, on the field.
    theirs = factories.hoax_item(town.org)
    refused = api.post(base, _key(cell.approver), {"title": "X", "posts": [{"item": theirs.pk}]})
    assert refused.status_code == 400 and "posts" in refused.json()["errors"]
    assert api.post(base, _key(cell.approver), {"title": " "}).status_code == 400

    send = f"{base}/{brief['id']}/send"
    # Not a partner (yet): 400.
    assert api.post(send, _key(cell.approver), {"partners": [asso.org.slug]}).status_code == 400
    factories.partnership(cell.org, asso.org)
    sent = api.post(send, _key(cell.approver), {"partners": [asso.org.slug]})
    assert sent.status_code == 200 and sent.json()["state"] == "sent"
    (delivery,) = sent.json()["deliveries"]
    assert delivery["partner_slug"] == asso.org.slug and delivery["state"] == "received"

    # The partner's desk: the brief, its own item where it answers.
    own = factories.hoax_item(asso.org)
    received = api.get(f"orgs/{asso.org.slug}/briefs/received", _key(asso.viewer)).json()
    assert received["count"] == 1 and received["items"][0]["sender"] == "Cellule nationale"
    path = f"orgs/{asso.org.slug}/briefs/received/{delivery['id']}"
    read = api.get(path, _key(asso.viewer)).json()
    assert [p["item"] for p in read["posts"]] == [own.pk, None]
    post = read["posts"][1]["id"]
    answer = {"post": post, "url": "https://x.example/asso/1"}
    assert api.post(f"{path}/responses", _key(asso.viewer), answer).status_code == 403
    declared = api.post(f"{path}/responses", _key(asso.publisher), answer)
    assert declared.status_code == 201 and declared.json()["how"] == "declared"
    again = api.post(f"{path}/responses", _key(asso.publisher), answer)
    assert again.status_code == 409
    # The sender reads who answered.
    seen = api.get(f"{base}/{brief['id']}", _key(cell.viewer)).json()
    assert [(r["partner"], r["answered_by"], r["url"]) for r in seen["responses"]] == [
        ("Cellule associative", "asso-publisher", "https://x.example/asso/1")
    ]
    # Closed: 409 to close again, answers no longer counted.
    assert api.post(f"{base}/{brief['id']}/close", _key(cell.approver)).status_code == 200
    assert api.post(f"{base}/{brief['id']}/close", _key(cell.approver)).status_code == 409
    late = api.post(
        f"{path}/responses", _key(asso.publisher), {**answer, "url": "https://x.example/2"}
    )
    assert late.status_code == 409
    assert BriefResponse.objects.count() == 1


def test_another_organizations_brief_is_not_found(
    cell: Desk, asso: Desk, town: Desk, api: ApiClient
) -> None:
    brief, delivery = factories.sent_brief(cell.org, asso.org)
    key = _key(town.admin)
    assert api.get(f"orgs/{town.org.slug}/briefs/{brief.pk}", key).status_code == 404
    assert api.get(f"orgs/{town.org.slug}/briefs/received/{delivery.pk}", key).status_code == 404
    # The partner reads it only as received; the sender does not declare for it.
    assert api.get(f"orgs/{asso.org.slug}/briefs/{brief.pk}", _key(asso.admin)).status_code == 404
    assert (
        api.get(f"orgs/{cell.org.slug}/briefs/received/{delivery.pk}", _key(cell.admin)).status_code
        == 404
    )
    assert api.get(f"orgs/{cell.org.slug}/briefs", key).status_code == 404
    assert api.get(f"orgs/{town.org.slug}/briefs/received", key).json()["count"] == 0


def test_signed_files_both_ways(cell: Desk, asso: Desk, api: ApiClient) -> None:
    from beffroi.briefs import services

    made, code = services.create_link(cell.ctx(cell.admin), "Association")
    services.join_link(asso.ctx(asso.admin), "Cellule", code)
    brief = factories.brief(cell.org)
    exported = api.post(
        f"orgs/{cell.org.slug}/briefs/{brief.pk}/export", _key(cell.approver), {"link": made.pk}
    )
    assert exported.status_code == 200, exported.content
    content = exported.json()["content"]
    imported = api.post(
        f"orgs/{asso.org.slug}/briefs/import", _key(asso.publisher), {"content": content}
    )
    assert imported.status_code == 200, imported.content
    delivery = imported.json()
    assert delivery["title"] == brief.title and delivery["brief_key"] == brief.key
    tampered = content.replace("Rumeur", "Rumour")
    refused = api.post(
        f"orgs/{asso.org.slug}/briefs/import", _key(asso.publisher), {"content": tampered}
    )
    assert refused.status_code == 400 and "signature" in refused.json()["detail"]
    path = f"orgs/{asso.org.slug}/briefs/received/{delivery['id']}"
    api.post(
        f"{path}/responses",
        _key(asso.publisher),
        {"post": delivery["posts"][0]["id"], "url": "https://x.example/a/1"},
    )
    report = api.post(f"{path}/export", _key(asso.publisher)).json()["content"]
    assert json.loads(report)["responses"][0]["url"] == "https://x.example/a/1"
    back = api.post(
        f"orgs/{cell.org.slug}/briefs/responses/import", _key(cell.approver), {"content": report}
    )
    assert back.status_code == 200 and back.json() == {
        "brief": brief.pk,
        "added": 1,
        "updated": 0,
        "left_out": 0,
    }
    twice = api.post(
        f"orgs/{cell.org.slug}/briefs/responses/import", _key(cell.approver), {"content": report}
    )
    assert (
        twice.json()["added"] == 0
        and BriefResponse.objects.filter(delivery__brief=brief).count() == 1
    )
