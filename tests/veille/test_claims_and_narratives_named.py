"""Claims followed through narratives, narratives named by a post in the reader's language,
and the measurement of matching on labelled (demo) items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation

from beffroi.veille import claims
from beffroi.veille.models import CheckedClaim, ClaimMatch, Narrative, NarrativeItem

pytestmark = pytest.mark.django_db

WATER = "L'eau du robinet de Saint-Aubin est contaminée par une bactérie."


def water_claim(org: Any) -> CheckedClaim:
    return CheckedClaim.objects.create(
        organization=org, key="w", statement=WATER, verdict="Faux", url="https://f.example/eau"
    )


def story(org: Any, items: list[Any], key: str = "n1") -> Narrative:
    narrative = Narrative.objects.create(organization=org, key=key, item_count=len(items))
    for item in items:
        NarrativeItem.objects.create(narrative=narrative, item=item)
    return narrative


def test_a_narrative_that_repeats_a_claim_brings_its_other_items(
    org: Any, post: Callable[..., Any]
) -> None:
    claim = water_claim(org)
    seeds = [post("L'eau du robinet est contaminée à Saint-Aubin !!", f"s{n}") for n in range(2)]
    reworded = post("Ils nous empoisonnent et se taisent, on veut la vérité")
    denial = post("C'est faux, l'eau est potable", "mairie")
    CheckedClaim.objects.create(
        organization=org, key="r", statement=WATER, item=denial, origin="rebuttal"
    )
    story(org, [*seeds, reworded, denial])
    for seed in seeds:
        ClaimMatch.objects.create(organization=org, item=seed, claim=claim, similarity=0.7)
    assert claims.follow_narratives(org) == 1
    match = ClaimMatch.objects.get(item=reworded)
    assert match.claim == claim and -1.0 <= match.similarity <= 1.0
    # The rebuttal in the same narrative is not a repetition; nothing is matched twice.
    assert not ClaimMatch.objects.filter(item=denial).exists()
    assert claims.follow_narratives(org) == 0


def test_one_match_in_a_large_narrative_is_not_enough(org: Any, post: Callable[..., Any]) -> None:
    claim = water_claim(org)
    items = [post(f"Travaux rue des Tanneurs, jour {n} de chantier") for n in range(9)]
    story(org, items)
    ClaimMatch.objects.create(organization=org, item=items[0], claim=claim, similarity=0.6)
    ClaimMatch.objects.create(organization=org, item=items[1], claim=claim, similarity=0.6)
    # 2 of 9 is under a quarter: the narrative is not the claim's story.
    assert claims.follow_narratives(org) == 0


def test_a_narrative_is_named_by_its_post_in_the_readers_language(org: Any) -> None:
    narrative = Narrative.objects.create(
        organization=org,
        key="n1",
        keywords=["tap", "water", "bouteille", "contaminated"],
        summaries={
            "": {"text": "L'eau du robinet est contaminée", "keywords": ["eau", "robinet"]},
            "en": {"text": "The tap water is unsafe", "keywords": ["tap", "water", "unsafe"]},
        },
    )
    with translation.override("en"):
        assert narrative.label == "« The tap water is unsafe » (tap, water, unsafe)"
    with translation.override("fr"):
        assert narrative.label == "« L'eau du robinet est contaminée » (eau, robinet)"
    narrative.name = "Rumeur de l'eau"
    assert narrative.label == "Rumeur de l'eau"
    bare = Narrative.objects.create(organization=org, key="n2", keywords=["a", "b"])
    assert bare.label == "a, b"


def test_narratives_stored_with_their_summaries(org: Any, post: Callable[..., Any]) -> None:
    from beffroi.veille import narratives

    for n in range(3):
        post(f"La piscine municipale ferme ses portes en juin, message {n}")
    narratives.update_narratives(org)
    (found,) = Narrative.objects.filter(organization=org)
    assert found.summaries[""]["text"].startswith("La piscine municipale ferme")
    assert set(found.summaries) == {"", "fr"}
    assert found.label.startswith("« La piscine municipale ferme ses portes en juin")


def test_matching_measured_on_labelled_items(org: Any, post: Callable[..., Any]) -> None:
    from beffroi.demo import claims_eval
    from beffroi.demo.town import HOAX_ID, IMPERSONATION_ID

    def label(category: str, group: str | None) -> dict[str, Any]:
        return {"beffroi_demo_label": {"category": category, "group": group}}

    claim = CheckedClaim.objects.create(
        organization=org,
        key="w",
        statement=WATER,
        url="https://verif-loire.demo.invalid/2026/eau-saint-aubin-contaminee",
    )
    hoax = [post(f"hoax {n}", raw=label("hoax", HOAX_ID)) for n in range(4)]
    question = post("C'est vrai ?", raw=label("question", HOAX_ID))
    other = post("Bonjour", raw=label("neutral", None))
    post("aide", raw=label("impersonation", IMPERSONATION_ID))
    for item in (hoax[0], hoax[1], question, other):
        ClaimMatch.objects.create(organization=org, item=item, claim=claim, similarity=0.5)
    report = claims_eval.measure(org)
    assert report.as_dict() == {
        "stories": {
            HOAX_ID: {"items": 4, "matched": 2, "recall": 0.5},
            IMPERSONATION_ID: {"items": 1, "matched": 0, "recall": 0.0},
        },
        "recall": 0.4,
        "matches": 4,
        "precision": 0.75,
        "strict_precision": 0.5,
    }
