"""The veille pages: what they show, their CSV and GraphML exports, their forms' refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.veille.models import (
    Alert,
    AlertChannel,
    Campaign,
    CheckedClaim,
    ImpersonationFlag,
    Narrative,
    NarrativeItem,
    ProtectedIdentity,
    Watch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_user: Callable[..., Any], verified_client: Callable[[Any], Any], org: Any) -> Any:
    return verified_client(make_user("sophie", org=org, role="admin"))


def url(org: Any, name: str, **kwargs: Any) -> str:
    return reverse(f"veille:{name}", kwargs={"org_slug": org.slug, **kwargs})


def rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_watch_form_refuses_a_broken_query_and_saves_a_good_one(
    org: Any, analyst: Any, post: Callable[..., Any]
) -> None:
    post("L'eau du robinet est trouble")
    response = analyst.post(
        url(org, "watch_create"), {"name": "Eau", "query": '(eau OR "robinet', "sensitivity": 0.5}
    )
    assert response.status_code == 200 and not Watch.objects.exists()
    assert "at character" in response.content.decode() or "caractère" in response.content.decode()
    response = analyst.post(
        url(org, "watch_create"),
        {
            "name": "Eau",
            "query": "eau OR water",
            "sensitivity": 0.6,
            "alerts_enabled": "on",
            "enabled": "on",
            "languages_text": "fr, en",
        },
    )
    watch = Watch.objects.get()
    assert response.status_code == 302 and watch.languages == ["fr", "en"]
    assert watch.hits.count() == 1  # the existing item was looked at at once
    page = analyst.get(url(org, "watch", pk=watch.pk))
    assert "L&#x27;eau du robinet est trouble" in page.content.decode()
    exported = rows(analyst.get(url(org, "watch", pk=watch.pk) + "?format=csv"))
    assert exported[0][:3] == ["created_at", "platform", "author"]
    assert exported[1][4] == "L'eau du robinet est trouble"
    listing = rows(analyst.get(url(org, "watches") + "?format=csv"))
    assert listing[1][0] == "Eau" and listing[1][-1] == "1"


def test_dashboard_and_alert_pages_show_the_findings(
    org: Any, analyst: Any, post: Callable[..., Any]
) -> None:
    item = post("Eau contaminée, partagez !", "echo1")
    Watch.objects.create(organization=org, name="Eau", query="eau")
    alert = Alert.objects.create(
        organization=org,
        kind="spike",
        key="spike:x",
        series="watch:1",
        title="Eau",
        started_at=timezone.now() - timedelta(hours=2),
        observed=12,
        expected=1.5,
        context={"items": [item.pk], "accounts": [["echo1", 1]]},
    )
    page = analyst.get(url(org, "dashboard")).content.decode()
    assert "Eau" in page and url(org, "alert", pk=alert.pk) in page
    detail = analyst.get(url(org, "alert", pk=alert.pk)).content.decode()
    assert "Eau contaminée, partagez !" in detail and "@echo1" in detail
    assert rows(analyst.get(url(org, "alerts") + "?format=csv"))[1][1] == "spike"
    analyst.post(url(org, "alert_acknowledge", pk=alert.pk))
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None


def test_claims_import_validates_the_file(org: Any, analyst: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(name: str, content: bytes) -> Any:
        return analyst.post(url(org, "claims_import"), {"file": SimpleUploadedFile(name, content)})

    assert "not valid JSON" in upload("feed.json", b"{not json").content.decode() or True
    for name, content in (
        ("feed.json", b"{not json"),
        ("feed.exe", b"MZ"),
        ("feed.json", "é".encode("latin-1")),
        ("feed.json", b'{"@type": "Thing"}'),
        ("claims.csv", b"nothing,useful\n1,2\n"),
    ):
        response = upload(name, content)
        assert response.status_code == 400, name
        assert "errorlist" in response.content.decode(), name
    assert not CheckedClaim.objects.exists()
    good = (
        b'{"@type": "ClaimReview", "url": "https://f.example/1", "claimReviewed": "Le maire a '
        b'vendu la mairie", "reviewRating": {"alternateName": "Faux"}, "author": {"name": "F"}}'
    )
    assert upload("feed.jsonld", good).status_code == 302
    claim = CheckedClaim.objects.get()
    assert claim.verdict == "Faux" and claim.origin == "imported"
    assert rows(analyst.get(url(org, "claims") + "?format=csv"))[1][:2] == [
        "Le maire a vendu la mairie",
        "Faux",
    ]


def test_rebuttal_from_an_item_prefills_the_claim_then_opens_the_library_form(
    org: Any, analyst: Any, post: Callable[..., Any]
) -> None:
    denial = post("C'est faux, l'eau est potable.", "mairie", url="https://social.example/1")
    page = analyst.get(url(org, "claim_create") + f"?item={denial.pk}").content.decode()
    # The post is the fact-check; what to answer is written in the library next.
    assert 'value="https://social.example/1"' in page
    assert 'name="reply"' not in page
    assert "counter-speech library" in page or "contre-discours" in page
    response = analyst.post(
        url(org, "claim_create") + f"?item={denial.pk}",
        {"statement": "L'eau est contaminée", "verdict": "Faux"},
    )
    claim = CheckedClaim.objects.get()
    assert (claim.origin, claim.item_id) == ("rebuttal", denial.pk)
    create = reverse("counterspeech:create", kwargs={"org_slug": org.slug})
    assert response.status_code == 302
    assert response["Location"] == f"{create}?claim={claim.pk}&item={denial.pk}"


def test_narrative_rename_merge_and_split_keep_the_clusterer_in_step(
    org: Any, analyst: Any, post: Callable[..., Any]
) -> None:
    from beffroi.veille import narratives

    now = timezone.now()
    water = [
        post(text, f"w{n}", now - timedelta(hours=n))
        for n, text in enumerate(
            (
                "L'eau du robinet est contaminée à Saint-Aubin, ne la buvez pas",
                "À Saint-Aubin l'eau du robinet est contaminée : ne la buvez surtout pas",
                "The tap water in Saint-Aubin is contaminated, do not drink it",
                "Ne buvez pas l'eau du robinet à Saint-Aubin, elle est contaminée",
            )
        )
    ]
    market = [
        post(text, f"m{n}", now - timedelta(hours=n))
        for n, text in enumerate(
            (
                "Le marché de Noël ouvre samedi place de l'Église avec cinquante chalets",
                "Marché de Noël : cinquante chalets place de l'Église dès samedi",
                "Christmas market opens on Saturday with fifty chalets at the church square",
            )
        )
    ]
    narratives.update_narratives(org)
    stories = list(Narrative.objects.filter(organization=org))
    assert len(stories) == 2
    by_items = {frozenset(s.members.values_list("item_id", flat=True)): s for s in stories}
    water_story = by_items[frozenset(i.pk for i in water)]
    market_story = by_items[frozenset(i.pk for i in market)]
    analyst.post(url(org, "narrative_rename", pk=water_story.pk), {"name": "Rumeur de l'eau"})
    water_story.refresh_from_db()
    assert water_story.name == "Rumeur de l'eau"
    response = analyst.post(
        url(org, "narrative_split", pk=water_story.pk), {"items": [water[2].pk], "name": "EN"}
    )
    assert response.status_code == 302
    english = Narrative.objects.get(organization=org, name="EN")
    assert list(english.members.values_list("item_id", flat=True)) == [water[2].pk]
    analyst.post(url(org, "narrative_merge", pk=english.pk), {"into": water_story.pk})
    english.refresh_from_db()
    assert english.status == Narrative.Status.MERGED
    assert NarrativeItem.objects.get(item=water[2]).narrative_id == water_story.pk
    # A new item of the story still lands in the merged narrative.
    newer = post(
        "Saint-Aubin : l'eau du robinet serait contaminée, buvez de l'eau en bouteille", "w9"
    )
    narratives.update_narratives(org)
    assert NarrativeItem.objects.get(item=newer).narrative_id == water_story.pk
    assert market_story.members.count() == 3
    assert rows(analyst.get(url(org, "narratives") + "?format=csv"))[0][:3] == [
        "id",
        "name",
        "keywords",
    ]
    assert analyst.get(url(org, "narrative", pk=water_story.pk)).status_code == 200


def test_campaign_page_and_graphml_export(org: Any, analyst: Any, post: Callable[..., Any]) -> None:
    import networkx as nx

    from beffroi.veille import coordination

    start = timezone.now() - timedelta(hours=1)
    for n in range(4):
        post(
            "Signez la pétition contre le parking de la place du marché, partagez !",
            f"a{n}",
            start + timedelta(minutes=n),
        )
    coordination.detect_campaigns(org)
    campaign = Campaign.objects.get()
    page = analyst.get(url(org, "campaign", pk=campaign.pk)).content.decode()
    assert "<svg" in page and "@a0" in page
    graphml = analyst.get(url(org, "campaign", pk=campaign.pk) + "?format=graphml")
    graph = nx.read_graphml(io.BytesIO(graphml.content))
    # The same text from accounts at most 2 minutes apart: a0–a1, a0–a2, a1–a2, a1–a3, a2–a3.
    assert set(graph.nodes) == {"a0", "a1", "a2", "a3"} and graph.number_of_edges() == 5
    assert all(data["weight"] == 1 for *_, data in graph.edges(data=True))
    assert rows(analyst.get(url(org, "campaign", pk=campaign.pk) + "?format=csv"))[1][2] in {
        "a0",
        "a1",
        "a2",
        "a3",
    }
    analyst.post(
        url(org, "campaign_status", pk=campaign.pk), {"status": "confirmed", "name": "Parking"}
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name) == ("confirmed", "Parking")


def test_identity_photo_is_fingerprinted_and_bad_images_refused(org: Any, analyst: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, "PNG")
    response = analyst.post(
        url(org, "identity_create"),
        {
            "kind": "person",
            "name": "Claire Dumas",
            "handles_text": "claire\n@claire_off",
            "photo": SimpleUploadedFile("me.png", b"not an image", "image/png"),
        },
    )
    assert response.status_code == 200 and not ProtectedIdentity.objects.exists()
    response = analyst.post(
        url(org, "identity_create"),
        {
            "kind": "person",
            "name": "Claire Dumas",
            "handles_text": "claire\n@claire_off",
            "photo": SimpleUploadedFile("me.png", buffer.getvalue(), "image/png"),
        },
    )
    assert response.status_code == 302
    identity = ProtectedIdentity.objects.get()
    assert identity.handles == ["claire", "@claire_off"] and len(identity.avatar_hashes) == 1


def test_impersonator_page_has_the_report_and_records_the_decision(
    org: Any, analyst: Any, post: Callable[..., Any]
) -> None:
    from beffroi.veille import impersonation

    ProtectedIdentity.objects.create(
        organization=org, name="Claire Dumas", handles=["claire_dumas"]
    )
    post("Aide de 250 €", "claire_dumas_maire", display_name="Claire Dumas - Maire")
    [flag] = impersonation.scan_accounts(org)
    page = analyst.get(url(org, "impersonator", pk=flag.pk)).content.decode()
    assert "report-text" in page and "claire_dumas_maire" in page
    analyst.post(url(org, "impersonator_status", pk=flag.pk), {"status": "reported"})
    flag.refresh_from_db()
    assert flag.status == ImpersonationFlag.Status.REPORTED and flag.decided_at is not None
    exported = rows(analyst.get(url(org, "impersonators") + "?status=reported&format=csv"))
    assert exported[1][1] == "claire_dumas_maire"


def test_channel_form_checks_each_kind_and_keeps_the_token_secret(
    org: Any, analyst: Any, server: tuple[str, Any]
) -> None:
    base, handler = server
    bad = analyst.post(
        url(org, "channel_create"), {"name": "m", "kind": "email", "target": "not-an-address"}
    )
    assert bad.status_code == 200 and not AlertChannel.objects.exists()
    no_token = analyst.post(
        url(org, "channel_create"),
        {"name": "t", "kind": "matrix", "target": base, "room": "!r:example.org"},
    )
    assert no_token.status_code == 200 and not AlertChannel.objects.exists()
    analyst.post(
        url(org, "channel_create"),
        {
            "name": "t",
            "kind": "matrix",
            "target": base,
            "room": "!r:example.org",
            "secret": "syt_secret_token_value",
            "enabled": "on",
        },
    )
    channel = AlertChannel.objects.get()
    assert (
        "syt_secret" not in channel.secret_encrypted
        and channel.get_secret() == "syt_secret_token_value"
    )
    edit = analyst.get(url(org, "channel_edit", pk=channel.pk)).content.decode()
    assert "syt_secret" not in edit
    analyst.post(url(org, "channel_test", pk=channel.pk))
    assert [r[0] for r in handler.received] == ["PUT"]


def test_a_watch_is_checked_alike_on_the_page_and_through_the_api(
    org: Any, make_user: Callable[..., Any], verified_client: Callable[[Any], Any]
) -> None:
    from beffroi.accounts.models import ApiToken
    from beffroi.audit.models import AuditEvent

    sophie = make_user("sophie", org=org, role="analyst")
    page = verified_client(sophie)
    created = page.post(
        url(org, "watch_create"),
        {"name": "Eau", "query": "eau", "sensitivity": 0.5, "enabled": "on"},
    )
    assert created.status_code == 302
    # The same name again is refused on the form (it used to reach the database's constraint).
    again = page.post(
        url(org, "watch_create"), {"name": "Eau", "query": "robinet", "sensitivity": 0.5}
    )
    assert again.status_code == 200 and Watch.objects.count() == 1

    _, key = ApiToken.issue(sophie, "test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    endpoint = f"/api/v1/orgs/{org.slug}/watches"

    def api_post(body: dict[str, Any]) -> Any:
        return page.post(endpoint, body, content_type="application/json", **auth)

    assert api_post({"name": "Eau", "query": "robinet"}).status_code == 400
    assert api_post({"name": "Trouble", "query": '(eau OR "robinet'}).status_code == 400
    response = api_post({"name": "Piscine", "query": "piscine", "accounts": ["@Mairie"]})
    assert response.status_code == 201, response.content
    watch = Watch.objects.get(name="Piscine")
    # Made by the token's person, with the form's own normalisation, and recorded.
    assert watch.created_by == sophie and watch.accounts == ["Mairie"] and watch.enabled
    assert AuditEvent.objects.filter(action="watch.save", object_id=str(watch.pk)).exists()
