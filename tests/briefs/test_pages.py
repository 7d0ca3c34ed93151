"""The briefs' pages: the round trip clicked through (prepare, propose and accept the
partnership, send; the partner opens it, finds where to answer, declares an answer; the
sender reads who answered, as a table and as CSV), the signed file downloaded and imported,
every role held to what it may do, another organization's brief not found, the forms
protected by CSRF, and each page in French and in English."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from beffroi.briefs import services
from beffroi.briefs.models import Brief, BriefDelivery, BriefResponse, ExternalPartner, Partnership
from tests.briefs import factories
from tests.briefs.conftest import Desk

pytestmark = pytest.mark.django_db


def _client(user: Any, language: str = "en", *, csrf: bool = False) -> Client:
    """A client past the password and the second factor."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(enforce_csrf_checks=csrf, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def _url(name: str, desk: Desk, *args: Any) -> str:
    return reverse(f"briefs:{name}", args=[desk.org.slug, *args])


def test_the_round_trip_through_the_pages(cell: Desk, asso: Desk) -> None:
    item = factories.hoax_item(cell.org)
    approver = _client(cell.approver)
    created = approver.post(
        _url("create", cell),
        {
            "title": "Rumeur de l'eau empoisonnée",
            "summary": "Répondre avec les analyses.",
            "posts": f"#{item.pk}\nhttps://x.example/status/77\n",
            "dos": "Citer les analyses\n\nRester calme",
            "donts": "Ne pas relayer la capture",
        },
    )
    brief = Brief.objects.get()
    assert created.status_code == 302 and created["Location"] == _url("detail", cell, brief.pk)
    assert brief.dos == ["Citer les analyses", "Rester calme"] and brief.posts.count() == 2
    # An inbox number that is not the organization's is said on the field.
    wrong = approver.post(_url("create", cell), {"title": "X", "posts": "#999999"})
    assert wrong.status_code == 200 and b"There is no item #999999" in wrong.content

    # The partnership: proposed by the cell's administrator, accepted by the association's.
    assert (
        _client(cell.admin).post(_url("propose", cell), {"partner": asso.org.slug}).status_code
        == 302
    )
    partners = _client(asso.admin).get(_url("partners", asso)).content.decode()
    assert "Cellule nationale" in partners and "proposes to send us its briefs" in partners
    accepted = _client(asso.admin).post(_url("accept", asso), {"organization": cell.org.pk})
    assert accepted.status_code == 302
    assert Partnership.objects.get().state == Partnership.State.ACCEPTED

    page = approver.get(_url("detail", cell, brief.pk)).content.decode()
    assert 'name="partners"' in page and "Cellule associative" in page
    sent = approver.post(_url("send", cell, brief.pk), {"partners": [asso.org.pk]})
    assert sent.status_code == 302
    delivery = BriefDelivery.objects.get()

    # The partner's desk: the brief, where to answer each post.
    own = factories.hoax_item(asso.org)
    publisher = _client(asso.publisher)
    listed = publisher.get(_url("list", asso), {"box": "received"}).content.decode()
    assert _url("received", asso, delivery.pk) in listed and "Cellule nationale" in listed
    received = publisher.get(_url("received", asso, delivery.pk)).content.decode()
    assert reverse("items:item", args=[asso.org.slug, own.pk]) in received
    assert 'href="https://x.example/status/77"' in received
    assert "Citer les analyses" in received and "Ne pas relayer la capture" in received
    second = brief.posts.get(platform_id="")
    declared = publisher.post(
        _url("declare", asso, delivery.pk),
        {"post": second.pk, "url": "https://x.example/asso/status/5"},
    )
    assert declared.status_code == 302
    again = publisher.post(
        _url("declare", asso, delivery.pk),
        {"post": second.pk, "url": "https://x.example/asso/status/5"},
    )
    assert again.status_code == 200 and b"already counted" in again.content
    assert publisher.post(_url("acknowledge", asso, delivery.pk)).status_code == 302

    # The sender reads who answered what, when, with which link; and the same as CSV.
    detail = approver.get(_url("detail", cell, brief.pk)).content.decode()
    assert "asso-publisher" in detail and 'href="https://x.example/asso/status/5"' in detail
    assert "Acknowledged" in detail
    exported = approver.get(_url("detail", cell, brief.pk), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [(r["partner"], r["how"], r["answered_by"], r["answer_url"]) for r in rows] == [
        ("Cellule associative", "declared", "asso-publisher", "https://x.example/asso/status/5")
    ]

    closed = approver.post(_url("close", cell, brief.pk))
    assert closed.status_code == 302
    assert (
        "closed this brief" in publisher.get(_url("received", asso, delivery.pk)).content.decode()
    )


def test_a_signed_file_through_the_pages(cell: Desk, asso: Desk) -> None:
    brief = factories.brief(cell.org)
    admin = _client(cell.admin)
    page = admin.post(_url("link_create", cell), {"name": "Association (autre Beffroi)"})
    code = re.search(r"<code>(bfl1\.[^<]+)</code>", page.content.decode())
    assert page.status_code == 200 and code is not None
    # Shown once: not on the page afterwards.
    assert code[1] not in admin.get(_url("partners", cell)).content.decode()
    joined = _client(asso.admin).post(
        _url("link_join", asso), {"name": "Cellule nationale", "code": code[1]}
    )
    assert joined.status_code == 302
    made = ExternalPartner.objects.for_org(cell.org).get()
    download = _client(cell.approver).post(_url("export", cell, brief.pk), {"link": made.pk})
    assert download.status_code == 200 and download["Content-Type"].startswith("application/json")
    assert "attachment" in download["Content-Disposition"]
    assert json.loads(download.content)["brief"]["key"] == brief.key

    from django.core.files.uploadedfile import SimpleUploadedFile

    publisher = _client(asso.publisher)

    def upload(content: bytes) -> Any:
        return publisher.post(
            _url("import", asso), {"file": SimpleUploadedFile("brief.json", content)}
        )

    refused = upload(download.content.replace(b"Rumeur", b"Rumour"))
    assert refused.status_code == 200 and b"signature does not match" in refused.content
    imported = upload(download.content)
    delivery = BriefDelivery.objects.get(organization=asso.org)
    assert imported.status_code == 302 and imported["Location"] == _url(
        "received", asso, delivery.pk
    )
    report = publisher.post(_url("export_responses", asso, delivery.pk))
    assert report.status_code == 200
    back = _client(cell.approver).post(
        _url("import_responses", cell, brief.pk),
        {"file": SimpleUploadedFile("answers.json", report.content)},
    )
    assert back.status_code == 302


def test_each_role_may_do_what_it_should(cell: Desk, asso: Desk) -> None:
    brief, delivery = factories.sent_brief(cell.org, asso.org)
    # Every member reads; only who approves prepares, sends and closes.
    for user in (cell.viewer, cell.publisher, cell.moderator):
        client = _client(user)
        assert client.get(_url("detail", cell, brief.pk)).status_code == 200
        assert client.get(_url("create", cell)).status_code == 403
        assert client.post(_url("close", cell, brief.pk)).status_code == 403
        assert client.get(_url("partners", cell)).status_code == 403
    assert _client(cell.approver).get(_url("partners", cell)).status_code == 403
    # Who answers declares; a viewer or an approver of the partner does not.
    for user in (asso.viewer, asso.approver):
        client = _client(user)
        assert client.get(_url("received", asso, delivery.pk)).status_code == 200
        declared = client.post(
            _url("declare", asso, delivery.pk),
            {"post": brief.posts.get().pk, "url": "https://x.example/1"},
        )
        assert declared.status_code == 403
    assert not BriefResponse.objects.exists()
    brief.refresh_from_db()
    assert brief.state == Brief.State.SENT


def test_another_organizations_brief_is_not_found(cell: Desk, asso: Desk, town: Desk) -> None:
    brief, delivery = factories.sent_brief(cell.org, asso.org)
    partner = _client(asso.admin)
    # The partner reads the brief through its delivery only, never at the sender's address.
    assert partner.get(_url("detail", asso, brief.pk)).status_code == 404
    assert partner.get(_url("detail", cell, brief.pk)).status_code == 404
    assert partner.post(_url("close", asso, brief.pk)).status_code == 404
    # The town, no one's partner, finds neither.
    outsider = _client(town.admin)
    assert outsider.get(_url("received", town, delivery.pk)).status_code == 404
    assert outsider.get(_url("received", asso, delivery.pk)).status_code == 404
    assert outsider.post(_url("acknowledge", town, delivery.pk)).status_code == 404
    assert (
        outsider.post(
            _url("declare", town, delivery.pk),
            {"post": brief.posts.get().pk, "url": "https://x.example/1"},
        ).status_code
        == 404
    )
    listed = outsider.get(_url("list", town), {"box": "received"}).content.decode()
    assert brief.title not in listed
    # The sender does not act on the partner's delivery either.
    assert _client(cell.admin).post(_url("acknowledge", cell, delivery.pk)).status_code == 404
    delivery.refresh_from_db()
    assert delivery.state == BriefDelivery.State.RECEIVED


def test_forms_need_the_csrf_token(cell: Desk, asso: Desk) -> None:
    brief, delivery = factories.sent_brief(cell.org, asso.org)
    client = _client(asso.publisher, csrf=True)
    url = _url("declare", asso, delivery.pk)
    data = {"post": brief.posts.get().pk, "url": "https://x.example/1"}
    assert client.post(url, data).status_code == 403
    page = client.get(_url("received", asso, delivery.pk))
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    token = client.cookies["csrftoken"].value
    assert client.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == 302
    assert BriefResponse.objects.count() == 1


PAGES = {
    "list": ("Our response briefs", "Nos fiches de riposte"),
    "received_list": ("Briefs received from our partners", "Fiches reçues de nos partenaires"),
    "detail": ("Posts to answer, and who answered", "Messages à contrer, et qui a répondu"),
    "received": ("Posts to answer", "Messages à contrer"),
    "create": ("New response brief", "Nouvelle fiche de riposte"),
    "partners": ("Brief partners", "Partenaires des fiches"),
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_pages_in_french_and_in_english(cell: Desk, asso: Desk, language: str) -> None:
    brief, delivery = factories.sent_brief(cell.org, asso.org)
    services.declare_response(
        asso.ctx(asso.publisher), delivery, brief.posts.get(), "https://x.example/r"
    )
    cell_admin = _client(cell.admin, language)
    asso_admin = _client(asso.admin, language)
    pages = {
        "list": (cell_admin, _url("list", cell)),
        "received_list": (asso_admin, _url("list", asso) + "?box=received"),
        "detail": (cell_admin, _url("detail", cell, brief.pk)),
        "received": (asso_admin, _url("received", asso, delivery.pk)),
        "create": (cell_admin, _url("create", cell)),
        "partners": (cell_admin, _url("partners", cell)),
    }
    other = "fr" if language == "en" else "en"
    for name, (client, url) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert f'<html lang="{language}">' in html, name
        english, french = PAGES[name]
        wanted, unwanted = (english, french) if language == "en" else (french, english)
        assert wanted in html, (name, language)
        assert unwanted not in html, (name, other)
