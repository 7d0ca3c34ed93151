"""Briefs between two Beffroi instances: a signed file one way, the report of the answers the
other way. Another instance is played here by another organization holding the same link
(the code given once): the file is exported, then imported there. A file changed after it was
signed, signed with another secret or a link one does not have, signed by someone else than
the link's partner or by oneself, expired or malformed is refused with a sentence, and the
refusal kept in the audit trail; importing the same file again updates, never duplicates."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from beffroi.audit.models import AuditEvent
from beffroi.briefs import services, signing
from beffroi.briefs.models import Brief, BriefDelivery, BriefResponse
from tests.briefs import factories
from tests.briefs.conftest import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(cell: Desk, asso: Desk) -> tuple[Any, Any]:
    """The cell made a link and gave its code to the association, which joined it."""
    made, code = services.create_link(cell.ctx(cell.admin), "Association (autre Beffroi)")
    joined = services.join_link(asso.ctx(asso.admin), "Cellule nationale (autre Beffroi)", code)
    return made, joined


def _exported(cell: Desk, link: Any, **extra: Any) -> tuple[Brief, bytes]:
    brief = factories.brief(cell.org, **extra)
    text = services.export_brief(cell.ctx(cell.approver), brief, link)
    return brief, text.encode()


def _refused(asso: Desk, data: bytes, code: str, match: str) -> None:
    before = AuditEvent.objects.filter(action="brief.file_refused").count()
    with pytest.raises(services.FileRefused, match=match) as refused:
        services.import_brief(asso.ctx(asso.publisher), data)
    assert refused.value.code == code
    assert AuditEvent.objects.filter(action="brief.file_refused").count() == before + 1


def test_the_link_code_is_shown_once_and_kept_encrypted(
    cell: Desk, linked: tuple[Any, Any]
) -> None:
    made, joined = linked
    assert made.key_id == joined.key_id and made.secret == joined.secret
    assert made.secret not in made.secret_encrypted
    event = AuditEvent.objects.get(action="brief.link.create")
    assert made.secret not in json.dumps(event.after)
    with pytest.raises(services.BriefError, match="not a link code"):
        services.join_link(cell.ctx(cell.admin), "X", "bfl1.zz.short")
    with pytest.raises(services.BriefError, match="already has this link"):
        services.join_link(cell.ctx(cell.admin), "X", signing.link_code(made.key_id, made.secret))


def test_a_signed_brief_is_imported_into_the_partners_desk_and_updated_when_imported_again(
    cell: Desk, asso: Desk, linked: tuple[Any, Any]
) -> None:
    made, _joined = linked
    brief, data = _exported(cell, made, valid_until=timezone.localdate() + timedelta(days=3))
    document = json.loads(data)
    assert (
        document["format"] == "beffroi.brief" and document["from"]["organization"] == cell.org.slug
    )
    assert document["signature"].startswith("hmac-sha256:")
    assert document["expires_at"].startswith((brief.valid_until).isoformat())
    brief.refresh_from_db()
    assert brief.state == Brief.State.SENT
    export = BriefDelivery.objects.get(brief=brief)
    assert export.organization is None and export.external_name == "Association (autre Beffroi)"

    delivery = services.import_brief(asso.ctx(asso.publisher), data)
    copy = delivery.brief
    assert delivery.organization == asso.org and copy.organization == asso.org
    assert copy.imported and copy.key == brief.key and copy.sender_label == "Cellule nationale"
    assert copy.title == brief.title and copy.dos == brief.dos
    assert [(p.key, p.platform_id) for p in copy.posts.all()] == [
        (p.key, p.platform_id) for p in brief.posts.all()
    ]
    assert list(services.received(asso.org)) == [delivery]
    assert not services.sent_briefs(asso.org).exists()

    # The partner answers; the sender changes the brief and exports it again: the copy is
    # updated, its answers kept, nothing doubled.
    post = copy.posts.get()
    services.declare_response(asso.ctx(asso.publisher), delivery, post, "https://x.example/r/1")
    services.update_brief(
        cell.ctx(cell.approver),
        brief,
        services.BriefData(
            title="Rumeur (mise à jour)",
            posts=[services.PostData.of_item(brief.posts.get().item)],
        ),
    )
    again = services.import_brief(
        asso.ctx(asso.publisher),
        services.export_brief(cell.ctx(cell.approver), brief, made).encode(),
    )
    assert again == delivery
    copy.refresh_from_db()
    assert copy.title == "Rumeur (mise à jour)" and copy.dos == []
    assert Brief.objects.filter(organization=asso.org).count() == 1
    assert BriefResponse.objects.get().post == post
    assert AuditEvent.objects.filter(organization=asso.org, action="brief.import").count() == 2


def test_a_changed_file_is_refused(cell: Desk, asso: Desk, linked: tuple[Any, Any]) -> None:
    _brief, data = _exported(cell, linked[0])
    document = json.loads(data)
    document["brief"]["posts"][0]["url"] = "https://evil.example/phishing"
    _refused(asso, json.dumps(document).encode(), "signature", "changed after it was signed")
    # The expiry is signed too.
    document = json.loads(data)
    document["expires_at"] = (timezone.now() + timedelta(days=3650)).isoformat()
    _refused(asso, json.dumps(document).encode(), "signature", "signature does not match")
    assert not Brief.objects.filter(organization=asso.org).exists()


def test_a_file_signed_with_another_key_is_refused(
    cell: Desk, asso: Desk, linked: tuple[Any, Any]
) -> None:
    made, _joined = linked
    # The link's key id, another secret.
    forged = factories.signed(factories.brief_document(made.key_id), "another-secret" * 3)
    _refused(asso, forged, "signature", "another secret")
    # A link the organization does not have (another partner's).
    theirs, _code = factories.link(cell.org, "Autre partenaire")
    _refused(
        asso,
        factories.signed(factories.brief_document(theirs.key_id), theirs.secret),
        "unknown_key",
        "does not have",
    )
    # The partner deletes the link: its files are no longer accepted.
    _brief, data = _exported(cell, made)
    services.delete_link(asso.ctx(asso.admin), linked[1])
    _refused(asso, data, "unknown_key", "deleted")


def test_who_signs_is_checked(cell: Desk, asso: Desk, linked: tuple[Any, Any]) -> None:
    made, joined = linked
    _brief, data = _exported(cell, made)
    # Imported back where it was signed: refused.
    with pytest.raises(services.FileRefused, match="this organization itself") as own:
        services.import_brief(cell.ctx(cell.admin), data)
    assert own.value.code == "own"
    # The first file names the partner; a file signed with the same secret by someone else
    # after it is refused.
    services.import_brief(asso.ctx(asso.publisher), data)
    joined.refresh_from_db()
    assert joined.counterpart["organization"] == cell.org.slug
    other = factories.brief_document(made.key_id, key="f" * 32)
    _refused(asso, factories.signed(other, made.secret), "sender", "another organization")


def test_an_expired_file_is_refused(cell: Desk, asso: Desk, linked: tuple[Any, Any]) -> None:
    made, _joined = linked
    document = factories.brief_document(made.key_id)
    document["expires_at"] = (timezone.now() - timedelta(minutes=1)).isoformat()
    _refused(asso, factories.signed(document, made.secret), "expired", "expired on")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x89PNG\r\n", "malformed"),
        (b"not json", "malformed"),
        (b"[1, 2]", "malformed"),
        (b'{"format": "beffroi.brief", "version": 99, "key_id": "a", "signature": "x"}', "version"),
        (b'{"format": "beffroi.brief", "version": 1, "key_id": "a"}', "unsigned"),
        (b'{"format": "something.else", "version": 1}', "format"),
    ],
)
def test_malformed_files_are_refused(asso: Desk, data: bytes, code: str) -> None:
    with pytest.raises(services.FileRefused) as refused:
        services.import_brief(asso.ctx(asso.publisher), data)
    assert refused.value.code == code
    assert str(refused.value)


def test_a_signed_file_with_a_broken_brief_is_refused(asso: Desk, linked: tuple[Any, Any]) -> None:
    _made, joined = linked
    for broken in ({"posts": "many"}, {"state": "draft"}, {"title": ""}, {"dos": [1]}):
        document = factories.brief_document(joined.key_id, **broken)
        _refused(asso, factories.signed(document, joined.secret), "malformed", "cannot be read")
    # A report is not a brief.
    report = factories.brief_document(joined.key_id)
    report["format"] = signing.RESPONSES_FORMAT
    _refused(asso, factories.signed(report, joined.secret), "format", "report of answers")


def test_the_report_of_answers_goes_back_and_counts_once(
    cell: Desk, asso: Desk, linked: tuple[Any, Any]
) -> None:
    made, _joined = linked
    brief, data = _exported(cell, made)
    delivery = services.import_brief(asso.ctx(asso.publisher), data)
    post = delivery.brief.posts.get()
    services.declare_response(asso.ctx(asso.publisher), delivery, post, "https://x.example/r/1")
    services.acknowledge(asso.ctx(asso.publisher), delivery)
    report = services.export_responses(asso.ctx(asso.publisher), delivery).encode()
    assert json.loads(report)["format"] == "beffroi.brief-responses"
    # Imported by the sender: the answer counted on the brief, as the partner reported it.
    done = services.import_responses(cell.ctx(cell.approver), report)
    assert (done.added, done.updated, done.left_out) == (1, 0, 0)
    (response,) = services.responses_of(brief)
    assert response.how == BriefResponse.How.IMPORTED and response.post == brief.posts.get()
    assert response.answered_by == "asso-publisher" and response.url == "https://x.example/r/1"
    assert response.delivery.partner_name == "Association (autre Beffroi)"
    assert response.delivery.state == BriefDelivery.State.ACKNOWLEDGED
    # Imported again: nothing twice.
    again = services.import_responses(cell.ctx(cell.approver), report)
    assert (again.added, again.updated) == (0, 1)
    assert BriefResponse.objects.filter(delivery__brief=brief).count() == 1
    # The partner cannot import it in the sender's stead, nor the sender a changed one.
    with pytest.raises(services.FileRefused) as own:
        services.import_responses(asso.ctx(asso.admin), report)
    assert own.value.code == "own"
    changed = json.loads(report)
    changed["responses"][0]["answered_by"] = "quelqu'un d'autre"
    with pytest.raises(services.FileRefused) as tampered:
        services.import_responses(cell.ctx(cell.approver), json.dumps(changed).encode())
    assert tampered.value.code == "signature"


def test_a_report_for_a_brief_not_sent_to_that_partner_is_refused(
    cell: Desk, asso: Desk, linked: tuple[Any, Any]
) -> None:
    made, _joined = linked
    _brief, data = _exported(cell, made)
    delivery = services.import_brief(asso.ctx(asso.publisher), data)
    report = json.loads(services.export_responses(asso.ctx(asso.publisher), delivery))
    report["brief"] = factories.brief(cell.org, title="Jamais envoyée").key
    signed = factories.signed(report, made.secret)
    with pytest.raises(services.FileRefused, match="did not send") as refused:
        services.import_responses(cell.ctx(cell.approver), signed)
    assert refused.value.code == "not_sent"
    # A brief of this Beffroi has no report to export: the sender reads the answers.
    _sent, local = factories.sent_brief(cell.org, asso.org, title="Locale")
    with pytest.raises(services.BriefError, match="already reads"):
        services.export_responses(asso.ctx(asso.publisher), local)


def test_signature_helpers() -> None:
    document = {"format": "beffroi.brief", "version": 1, "key_id": "k", "b": "é", "a": [1]}
    signed = signing.sign(document, "s3cret")
    assert (
        signing.canonical(signed)
        == '{"a":[1],"b":"é","format":"beffroi.brief","key_id":"k","version":1}'.encode()
    )
    signing.verify(signed, "s3cret")
    with pytest.raises(signing.SignatureProblem):
        signing.verify(signed, "other")
    with pytest.raises(signing.SignatureProblem):
        signing.verify({**signed, "b": "e"}, "s3cret")
    key_id, secret = signing.new_link()
    assert signing.read_link_code(signing.link_code(key_id, secret)) == (key_id, secret)
    assert signing.read_link_code("bfl1." + key_id) is None
