"""Watches and the fact-check library, stored per organization and run over every item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from beffroi.veille import claims, watch_query
from beffroi.veille.models import CheckedClaim, ClaimMatch, Watch, WatchHit

pytestmark = pytest.mark.django_db


def test_watches_match_new_items_once_and_rematch_after_an_edit(
    org: Any, post: Callable[..., Any]
) -> None:
    water = Watch.objects.create(organization=org, name="Eau", query="(eau OR water) -piscine")
    Watch.objects.create(organization=org, name="Off", query="eau", enabled=False)
    hit = post("L'eau du robinet est coupée rue des Lilas")
    post("Le réseau est en panne")  # "eau" inside a word is not the word
    post("La piscine et son eau chlorée")  # excluded
    english = post("No tap water in my street")
    assert watch_query.run_watches(org) == 2
    assert set(WatchHit.objects.filter(watch=water).values_list("item_id", flat=True)) == {
        hit.pk,
        english.pk,
    }
    # A second pass reads nothing again; a new item is matched on the next one.
    assert watch_query.run_watches(org) == 0
    later = post("Eau trouble ce matin")
    assert watch_query.run_watches(org) == 1
    assert WatchHit.objects.filter(watch=water, item=later).exists()
    # The watch is edited: every item is looked at again with the new query.
    water.query = "réseau"
    water.save()
    assert watch_query.rematch(water) == 1
    assert WatchHit.objects.filter(watch=water).count() == 1


def test_watch_restrictions_by_language_and_account(org: Any, post: Callable[..., Any]) -> None:
    watch = Watch.objects.create(
        organization=org, name="fr", query="eau", languages=["fr"], accounts=["mairie"]
    )
    kept = post("eau potable", "mairie", language="fr")
    post("eau potable", "mairie", language="en")
    post("eau potable", "voisin", language="fr")
    watch_query.run_watches(org)
    assert list(WatchHit.objects.filter(watch=watch).values_list("item_id", flat=True)) == [kept.pk]


JSONLD = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://factcheck.example/eau",
    "claimReviewed": "L'eau du robinet de Saint-Aubin est contaminée par une bactérie.",
    "author": {"@type": "Organization", "name": "Vérif"},
    "reviewRating": {"@type": "Rating", "alternateName": "Faux"},
}


def test_claims_are_matched_across_languages_and_not_on_rebuttals(
    org: Any, post: Callable[..., Any]
) -> None:
    from beffroi.analysis.claims.library import claims_from_jsonld

    done = claims.add_claims(org, claims_from_jsonld(JSONLD))
    assert (done.created, done.existing) == (1, 0)
    # The same review imported twice is one entry.
    assert claims.add_claims(org, claims_from_jsonld(JSONLD)).existing == 1
    french = post("Attention l'eau du robinet à Saint-Aubin est contaminée, une bactérie !!")
    english = post("Warning: the tap water in Saint-Aubin is contaminated with bacteria")
    unrelated = post("Le marché de Noël ouvre samedi sur la place de l'Église")
    denial = post("C'est faux : l'eau du robinet de Saint-Aubin n'est pas contaminée.", "mairie")
    claims.add_rebuttal(denial, "Eau contaminée à Saint-Aubin", "Faux", None)
    assert claims.match_items(org) >= 2
    matched = set(ClaimMatch.objects.values_list("item_id", flat=True))
    assert {french.pk, english.pk} <= matched
    assert unrelated.pk not in matched and denial.pk not in matched
    match = ClaimMatch.objects.get(item=english, claim__url="https://factcheck.example/eau")
    assert match.claim.verdict == "Faux" and match.similarity >= claims.MATCH_MIN_SIMILARITY
    # Nothing is matched twice; the rebuttal joined the library as the town's own.
    before = ClaimMatch.objects.count()
    assert claims.match_items(org) == 0
    assert ClaimMatch.objects.count() == before
    assert CheckedClaim.objects.get(item=denial).origin == CheckedClaim.Origin.REBUTTAL


def test_listening_watches_give_their_hashtags_to_the_mastodon_and_bluesky_accounts(
    org: Any,
) -> None:
    from beffroi.audit.models import AuditEvent
    from beffroi.sources.models import Source

    mastodon = Source.objects.create(
        organization=org,
        name="Mastodon",
        platform="mastodon",
        kind="account",
        settings={"hashtags": "mairie"},  # the administrator's own: kept
    )
    bluesky = Source.objects.create(
        organization=org, name="Bluesky", platform="bluesky", kind="account", settings={}
    )
    imports = Source.objects.create(organization=org, name="CSV", platform="file", kind="import")
    water = Watch.objects.create(
        organization=org,
        name="Eau",
        query="(#EauSaintAubin OR #eau* OR eau) -piscine",  # a wildcard tag is not listenable
        listen=True,
    )
    Watch.objects.create(organization=org, name="Quiet", query="#Marché", listen=False)
    watch_query.watch_saved(water)
    mastodon.refresh_from_db()
    imports.refresh_from_db()
    bluesky.refresh_from_db()
    assert mastodon.settings == {"hashtags": "mairie", "watch_hashtags": "eausaintaubin"}
    assert bluesky.settings == {"watch_hashtags": "eausaintaubin"}
    assert "watch_hashtags" not in imports.settings
    assert AuditEvent.objects.filter(action="source.update", object_id=str(mastodon.pk)).exists()
    water.listen = False
    water.save()
    assert watch_query.sync_listening(org) == []
    mastodon.refresh_from_db()
    assert mastodon.settings == {"hashtags": "mairie", "watch_hashtags": ""}
