"""The library in the JSON API: reading what the organization sees, writing through the
services (400 with the problems by field, 409 where the state refuses), another
organization's entries, a subscriber's read-only access, and the exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import ApiClient
from tests.counterspeech.conftest import Desk, entry_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> ApiClient:
    # The sentences read in English (the project speaks French by default).
    return ApiClient(Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en"))


def _key(user: Any) -> str:
    from beffroi.accounts.models import ApiToken

    return ApiToken.issue(user, "test")[1]


def _base(desk: Desk) -> str:
    return f"orgs/{desk.org.slug}/counter-speech"


BODY = {
    "title": "Eau du robinet",
    "strategy": "facts",
    "texts": {"fr": "L'eau est contrôlée chaque semaine.", "en": "Water is tested weekly."},
    "targets": ["migrants"],
    "topics": ["eau"],
    "licence": "etalab-2.0",
    "sources": [{"url": "https://www.example.org/eau", "title": "Qualité de l'eau"}],
}


def test_write_submit_approve_and_read(desk: Desk, api: ApiClient) -> None:
    created = api.post(f"{_base(desk)}/entries", _key(desk.writer), BODY)
    assert created.status_code == 201, created.content
    entry = created.json()
    assert entry["state"] == "draft" and entry["library"] is None
    assert entry["texts"]["en"] == "Water is tested weekly."
    assert entry["versions"][0]["author"] == "town-writer"
    path = f"{_base(desk)}/entries/{entry['id']}"
    # Who only reads may not write.
    assert api.post(f"{path}/submit", _key(desk.viewer)).status_code == 403
    assert api.post(f"{path}/submit", _key(desk.writer)).json()["state"] == "in_review"
    # Only a draft is submitted: 409, with why.
    again = api.post(f"{path}/submit", _key(desk.writer))
    assert again.status_code == 409 and "draft" in again.json()["detail"]
    # No one approves what they wrote (an administrator who wrote it neither).
    assert api.post(f"{path}/approve", _key(desk.writer), {}).status_code == 403
    stale = api.post(f"{path}/approve", _key(desk.approver), {"seen_hash": "0" * 64})
    assert stale.status_code == 409
    approved = api.post(
        f"{path}/approve", _key(desk.approver), {"seen_hash": entry["content_hash"]}
    )
    assert approved.status_code == 200 and approved.json()["approver"] == "town-approver"
    # An edit of what it says sends it back to review.
    edited = api.patch(path, _key(desk.writer), {"texts": {"fr": "Autre texte."}})
    assert edited.status_code == 200 and edited.json()["state"] == "in_review"
    assert edited.json()["title"] == "Eau du robinet"  # left out: kept
    sent_back = api.post(f"{path}/send-back", _key(desk.approver), {"comment": "Sourcer"})
    assert sent_back.json()["state"] == "draft" and sent_back.json()["state_reason"] == "Sourcer"
    retired = api.post(f"{path}/retire", _key(desk.admin), {"reason": "Vieux"})
    assert retired.json()["state"] == "retired"
    assert api.post(f"{path}/retire", _key(desk.admin), {}).status_code == 409
    assert api.patch(path, _key(desk.writer), {"title": "Encore"}).status_code == 409


def test_problems_answer_400_by_field(desk: Desk, api: ApiClient) -> None:
    from beffroi.counterspeech.models import Entry
    from beffroi.veille.models import Narrative

    body = BODY | {
        "texts": {"zz": "Texte"},
        "sources": [{"url": "ftp://www.example.org/x"}],
        "valid_from": "2026-05-01",
        "valid_until": "2026-01-01",
    }
    answer = api.post(f"{_base(desk)}/entries", _key(desk.writer), body)
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert {"text_zz", "sources", "valid_until"} <= set(errors), errors
    theirs = Narrative.objects.create(
        organization=desk.org.__class__.objects.create(slug="ailleurs", name="Ailleurs"),
        name="Eau",
    )
    answer = api.post(
        f"{_base(desk)}/entries", _key(desk.writer), BODY | {"narratives": [theirs.pk]}
    )
    assert answer.status_code == 400 and "narratives" in answer.json()["errors"]
    assert not Entry.objects.exists()
    assert (
        api.post(f"{_base(desk)}/entries", _key(desk.writer), {"strategy": "shout"}).status_code
        == 422
    )


def test_another_organizations_entry_is_not_found_and_a_shared_one_is_read_only(
    desk: Desk, cell: Desk, api: ApiClient
) -> None:
    from beffroi.counterspeech import services
    from beffroi.veille.models import Narrative

    narrative = Narrative.objects.create(organization=cell.org, name="Eau")
    draft = services.create_entry(cell.ctx(cell.writer), entry_data(title="Brouillon"))
    shared = services.create_entry(
        cell.ctx(cell.writer), entry_data(narratives=[narrative]), submit=True
    )
    services.approve(cell.ctx(cell.approver), shared)
    key = _key(desk.admin)
    base = f"{_base(desk)}/entries"
    for entry in (draft, shared):
        assert api.get(f"{base}/{entry.pk}", key).status_code == 404
    services.publish_library(cell.ctx(cell.admin), "Cellule nationale")
    services.subscribe(desk.ctx(desk.admin), cell.org)
    # The draft stays the cell's; the approved entry is read, with its library's name.
    assert api.get(f"{base}/{draft.pk}", key).status_code == 404
    read = api.get(f"{base}/{shared.pk}", key).json()
    assert read["library"] == "Cellule nationale"
    assert read["narratives"] == [] and read["versions"] == [] and read["author"] is None
    listed = api.get(base, key).json()
    assert [item["id"] for item in listed["items"]] == [shared.pk]
    assert api.get(base, key, library="own").json()["count"] == 0
    # Read-only: every change answers 404, and nothing changes.
    assert api.patch(f"{base}/{shared.pk}", key, {"title": "x"}).status_code == 404
    for action in ("submit", "approve", "retire"):
        assert api.post(f"{base}/{shared.pk}/{action}", key, {}).status_code == 404
    shared.refresh_from_db()
    assert shared.state == "approved" and shared.title != "x"
    # The publisher sees its own narratives.
    own = api.get(f"orgs/{cell.org.slug}/counter-speech/entries/{shared.pk}", _key(cell.viewer))
    assert own.json()["narratives"] == [narrative.pk]
    # A member of another organization does not find the organization itself.
    assert api.get(base, _key(cell.admin)).status_code == 404


def test_filters_and_exports(desk: Desk, api: ApiClient) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.counterspeech import services

    services.create_entry(desk.ctx(desk.writer), entry_data(title="Eau"))
    services.create_entry(desk.ctx(desk.writer), entry_data(title="Élections", strategy="empathy"))
    key = _key(desk.viewer)
    listed = api.get(f"{_base(desk)}/entries", key, strategy="empathy").json()
    assert [item["title"] for item in listed["items"]] == ["Élections"] and listed["count"] == 1
    exported = api.call("POST", f"{_base(desk)}/export", key, {"format": "csv"}, strategy="empathy")
    assert exported.status_code == 200, exported.content
    rows = list(csv.DictReader(io.StringIO(exported.json()["content"])))
    assert [row["title"] for row in rows] == ["Élections"]
    document = json.loads(
        api.post(f"{_base(desk)}/export", key, {"format": "json"}).json()["content"]
    )
    assert sorted(entry["title"] for entry in document["entries"]) == ["Eau", "Élections"]
    assert (
        AuditEvent.objects.filter(
            organization=desk.org, action="counter_speech.export", channel="api"
        ).count()
        == 2
    )
