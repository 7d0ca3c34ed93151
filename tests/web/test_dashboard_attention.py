"""The dashboard opens on what needs attention today, each line a count with its link, shown
only to a role that may open it; and the veille's context on the item page."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.web.factories import make_author, make_item

pytestmark = pytest.mark.django_db

DASHBOARD = "/o/ville-test/"
HOSTILE = "<script>alert(1)</script>"


@dataclass
class Veille:
    hoax: Any
    plain: Any
    claim: Any
    narrative: Any
    campaign: Any
    flag: Any


def _veille(org: Any, source: Any) -> Veille:
    """A hoax post repeating a checked claim (in a narrative and a campaign) by an account
    imitating the mayor; an open alert, cases of each kind."""
    from beffroi.moderation.models import Case
    from beffroi.veille.models import (
        Alert,
        Campaign,
        CheckedClaim,
        ClaimMatch,
        ImpersonationFlag,
        Narrative,
        NarrativeItem,
        ProtectedIdentity,
    )

    now = timezone.now()
    fake = make_author(org, "fausse_maire", display_name="Claire Dumas maire")
    hoax = make_item(
        source,
        fake,
        "h1",
        text="L'eau du robinet est contaminée",
        created_at=now - timedelta(hours=3),
    )
    old = make_item(
        source, fake, "h0", text="Ne buvez pas l'eau", created_at=now - timedelta(days=10)
    )
    plain = make_item(source, make_author(org, "alice"), "p1", text="Bonjour", created_at=now)
    claim = CheckedClaim.objects.create(
        organization=org,
        key="eau",
        statement=f"L'eau de la ville est contaminée {HOSTILE}",
        verdict="Faux",
        url="https://factuel.example/eau",
        source="Factuel",
    )
    ClaimMatch.objects.create(organization=org, item=hoax, claim=claim, similarity=0.91)
    ClaimMatch.objects.create(organization=org, item=old, claim=claim, similarity=0.8)
    narrative = Narrative.objects.create(
        organization=org, key="n1", name="Eau contaminée", item_count=2
    )
    NarrativeItem.objects.create(narrative=narrative, item=hoax, similarity=0.9)
    campaign = Campaign.objects.create(
        organization=org,
        key="copy:1",
        kind="copy",
        first_at=now - timedelta(hours=4),
        last_at=now,
        account_count=3,
        item_count=5,
    )
    campaign.items.add(hoax)
    campaign.authors.add(fake)
    Campaign.objects.create(
        organization=org,
        key="copy:2",
        kind="copy",
        status=Campaign.Status.DISMISSED,
        first_at=now,
        last_at=now,
    ).authors.add(fake)
    identity = ProtectedIdentity.objects.create(
        organization=org, name="Claire Dumas", handles=["claire"]
    )
    flag = ImpersonationFlag.objects.create(
        organization=org, identity=identity, author=fake, score=0.93
    )
    Alert.objects.create(
        organization=org, kind="spike", key="k1", title="Eau", started_at=now - timedelta(hours=2)
    )
    Alert.objects.create(
        organization=org,
        kind="spike",
        key="k2",
        title="Old",
        started_at=now - timedelta(days=3),
        acknowledged_at=now,
    )
    for n, kind in enumerate(["review", "review", "appeal", "escalation"]):
        Case.objects.create(organization=org, item=plain if n else hoax, kind=kind)
    Case.objects.create(organization=org, item=plain, kind="review", state="closed")
    return Veille(hoax, plain, claim, narrative, campaign, flag)


def _english(client: Any) -> Any:
    """The client reading in English (the French of new sentences is merged later)."""
    client.cookies["django_language"] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _needs(html: str) -> dict[str, tuple[str, int]]:
    """``data-need`` → (the line's link, its count)."""
    found = re.findall(
        r'data-need="([a-z]+)">\s*<a class="dash-counter-label" href="([^"]+)">[^<]*</a>\s*'
        r'<span class="dash-counter-value">(\d+)</span>',
        html,
    )
    return {key: (url.replace("&amp;", "&"), int(count)) for key, url, count in found}


def test_each_role_sees_what_needs_it_and_may_follow(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    _veille(org, source)
    seen = {}
    for role in ("admin", "moderator", "analyst", "publisher", "viewer"):
        client = member_client(role)
        html = client.get(DASHBOARD).content.decode()
        needs = _needs(html)
        seen[role] = set(needs)
        for url, _count in needs.values():
            assert client.get(url).status_code == 200, (role, url)
    assert seen["admin"] == {
        "conversations",
        "alerts",
        "claims",
        "campaigns",
        "impersonators",
        "queue",
        "requests",
    }
    assert seen["moderator"] == seen["admin"]
    assert seen["analyst"] == {"conversations", "alerts", "claims", "campaigns", "impersonators"}
    assert seen["publisher"] == seen["viewer"] == {"conversations", "alerts"}


def test_the_counts_and_their_links(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    veille = _veille(org, source)
    html = _english(member_client("moderator")).get(DASHBOARD).content.decode()
    needs = _needs(html)
    assert needs["alerts"] == ("/o/ville-test/veille/alerts/?open=1", 1)
    assert needs["claims"] == ("/o/ville-test/veille/claims/matches/", 1)
    assert needs["campaigns"] == ("/o/ville-test/veille/campaigns/?status=open", 1)
    assert needs["impersonators"] == ("/o/ville-test/veille/impersonators/?status=open", 1)
    assert needs["queue"] == ("/o/ville-test/moderation/queue/?kind=review", 2)
    assert needs["requests"] == ("/o/ville-test/moderation/queue/", 2)
    # The claim being repeated is named, escaped, with a link to its repeats.
    assert f"/o/ville-test/veille/claims/matches/?claim={veille.claim.pk}" in html
    assert "Faux" in html and HOSTILE not in html
    assert 'href="/o/ville-test/moderation/queue/?kind=appeal"' in html
    assert 'href="/o/ville-test/moderation/queue/?kind=escalation"' in html
    # The spreading is compared with the week before (one repeat then, one now).
    assert "as many as the 7 days before" in html


def test_other_organizations_are_not_counted(
    org: Any, other_org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    from beffroi.sources.models import Source

    theirs = Source.objects.create(organization=other_org, name="T", platform="file", kind="import")
    _veille(other_org, theirs)
    needs = _needs(member_client("admin").get(DASHBOARD).content.decode())
    assert {key: count for key, (_url, count) in needs.items()} == dict.fromkeys(needs, 0)
    assert len(needs) == 7


def test_the_english_dashboard(org: Any, source: Any, member_client: Callable[..., Any]) -> None:
    _veille(org, source)
    html = _english(member_client("moderator")).get(DASHBOARD).content.decode()
    assert "Needs attention today" in html and "Requests waiting" in html
    assert "1 appeal" in html and "1 escalation" in html


def test_claim_matches_of_one_claim(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    from beffroi.veille.models import CheckedClaim, ClaimMatch

    veille = _veille(org, source)
    other = CheckedClaim.objects.create(organization=org, key="x", statement="Autre rumeur")
    ClaimMatch.objects.create(organization=org, item=veille.plain, claim=other, similarity=0.7)
    client = member_client("moderator")
    url = "/o/ville-test/veille/claims/matches/"
    every = client.get(url)
    assert len(every.context["page_obj"].object_list) == 3
    one = client.get(f"{url}?claim={veille.claim.pk}")
    assert {m.claim_id for m in one.context["page_obj"].object_list} == {veille.claim.pk}
    assert client.get(f"{url}?claim=999999").status_code == 404


# --- the item page ----------------------------------------------------------------------------


def _item_page(client: Any, item: Any) -> str:
    response = client.get(f"/o/ville-test/items/{item.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str) -> str:
    found = re.search(r'<section class="card veille-context".*?</section>', html, re.S)
    return found[0] if found else ""


def test_item_page_shows_the_veille_context(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    veille = _veille(org, source)
    client = _english(member_client("moderator"))
    section = _section(_item_page(client, veille.hoax))
    assert section
    # The fact-check: verdict, who checked it (linked), the other repeats (the replies are the
    # counter-speech library's suggestions: tests/counterspeech/test_suggestions.py).
    assert "<strong>Faux</strong>" in section
    assert 'href="https://factuel.example/eau"' in section and "Factuel" in section
    assert HOSTILE not in section and "&lt;script&gt;" in section
    # Its narrative, its campaign (the dismissed one left out), the impersonation flag.
    links = re.findall(r'href="(/o/[^"]+)"', section)
    assert links == [
        f"/o/ville-test/veille/claims/matches/?claim={veille.claim.pk}",
        f"/o/ville-test/veille/narratives/{veille.narrative.pk}/",
        f"/o/ville-test/veille/campaigns/{veille.campaign.pk}/",
        f"/o/ville-test/veille/impersonators/{veille.flag.pk}/",
    ]
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "Eau contaminée" in section
    assert "this post is one of its 5 posts" in section
    assert "Claire Dumas" in section and "@fausse_maire" in section


def test_the_case_page_shows_the_veille_context_too(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    from beffroi.moderation.models import Case

    veille = _veille(org, source)
    case = Case.objects.filter(item=veille.hoax).first()
    assert case is not None
    client = _english(member_client("moderator"))
    page = client.get(f"/o/ville-test/moderation/cases/{case.pk}/")
    assert page.status_code == 200
    section = _section(page.content.decode())
    assert f"/o/ville-test/veille/narratives/{veille.narrative.pk}/" in section
    assert "<strong>Faux</strong>" in section


def test_item_page_without_veille_context(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    veille = _veille(org, source)
    assert _section(_item_page(member_client("admin"), veille.plain)) == ""


def test_item_page_context_only_for_roles_that_read_the_veille(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    veille = _veille(org, source)
    for role in ("admin", "analyst", "moderator"):
        assert _section(_item_page(member_client(role), veille.hoax)), role
    for role in ("publisher", "viewer"):
        html = _item_page(member_client(role), veille.hoax)
        assert not _section(html) and "/veille/" not in html.split("<main", 1)[-1], role


def test_author_of_another_campaign_item(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    """A post of an account that took part in a campaign, itself not one of its posts."""
    veille = _veille(org, source)
    other = make_item(source, veille.hoax.author, "h2", text="Autre chose")
    section = _section(_item_page(_english(member_client("analyst")), other))
    assert f"/veille/campaigns/{veille.campaign.pk}/" in section
    assert "its author took part in it with other posts" in section
    assert "/veille/narratives/" not in section and "claims/matches" not in section


# --- the veille pages, read by moderators -----------------------------------------------------


def test_moderators_read_the_veille_without_changing_it(
    org: Any, source: Any, member_client: Callable[..., Any]
) -> None:
    veille = _veille(org, source)
    slug = "/o/ville-test/veille"
    pages = {
        f"{slug}/narratives/{veille.narrative.pk}/": "/rename/",
        f"{slug}/campaigns/{veille.campaign.pk}/": "/status/",
        f"{slug}/impersonators/{veille.flag.pk}/": "/status/",
        f"{slug}/claims/": "/delete/",
    }
    # One test client: the moderator's visits first, then the analyst's.
    moderator = member_client("moderator")
    for url, action in pages.items():
        read = moderator.get(url)
        assert read.status_code == 200, url
        assert action not in read.content.decode(), url
    tabs = moderator.get(f"{slug}/").content.decode()
    for tab in ("narratives/", "claims/", "campaigns/", "impersonators/"):
        assert f'href="{slug}/{tab}"' in tabs, tab
    assert f'href="{slug}/watches/"' not in tabs
    assert moderator.post(f"{slug}/campaigns/{veille.campaign.pk}/status/").status_code == 403
    analyst = member_client("analyst")
    for url, action in pages.items():
        assert action in analyst.get(url).content.decode(), url
