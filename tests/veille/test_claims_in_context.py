"""Claims found through the items' context: the hits of a watch that follows a claim, and
the replies under an item that spreads one — each match saying why it was made."""

from __future__ import annotations

import csv as csv_module
import io
from collections.abc import Callable
from typing import Any

import pytest

from beffroi.veille import claims
from beffroi.veille.models import CheckedClaim, ClaimMatch, ProtectedIdentity, Watch, WatchHit

pytestmark = pytest.mark.django_db

WATER = "L'eau du robinet de Saint-Aubin est contaminée par une bactérie, ne la buvez pas."

#: Ordinary posts by others: what the library is calibrated on (at least 30 are needed).
ORDINARY = [
    "La piscine des Coteaux rouvre quand après les travaux ?",
    "Merci aux agents pour le déneigement rapide ce matin",
    "Le marché de Noël commence samedi, super ambiance",
    "Quelqu'un a perdu un chat roux rue du Pont ?",
    "Les horaires de la médiathèque changent en décembre",
    "Bravo pour les illuminations du centre-ville",
    "Le bus 12 est encore en retard ce matin",
    "Il y a des places au conservatoire pour les enfants ?",
    "Super concert hier soir à la salle des fêtes",
    "Les poubelles n'ont pas été ramassées rue Victor Hugo",
    "Comment s'inscrire à la cantine scolaire ?",
    "Le parc des Varennes est magnifique en automne",
    "Encore des nids de poule avenue de la Gare",
    "Belle initiative le repair café samedi dernier",
    "La mairie est ouverte le samedi matin ?",
    "Où déposer les encombrants ce mois-ci ?",
    "Le feu rouge du carrefour est en panne depuis hier",
    "Vivement la nouvelle piste cyclable le long de la Loire",
    "Les travaux du gymnase avancent bien",
    "Qui organise le vide-grenier de printemps ?",
    "Les jardins partagés cherchent des bénévoles",
    "Le cinéma reprend ses séances en plein air cet été",
    "Merci pour la réactivité du service propreté",
    "La fête de la musique aura lieu place du Marché",
    "Est-ce que la bibliothèque prête des liseuses ?",
    "Le stationnement est impossible près de l'école",
    "Très bon accueil à l'état civil pour mon passeport",
    "Le club de foot recrute des éducateurs",
    "Les trottoirs sont glissants devant la poste",
    "Quel beau feu d'artifice pour le 14 juillet",
    "La navette pour les seniors fonctionne le mardi ?",
    "Le brocanteur du dimanche est de retour",
]


@pytest.fixture
def water(org: Any, post: Callable[..., Any]) -> CheckedClaim:
    for n, text in enumerate(ORDINARY):
        post(text, f"habitant{n}")
    return CheckedClaim.objects.create(
        organization=org, key="w", statement=WATER, verdict="Faux", url="https://f.example/eau"
    )


def watch_hits(org: Any, query: str, items: list[Any], name: str = "Eau") -> Watch:
    watch = Watch.objects.create(organization=org, name=name, query=query)
    for item in items:
        WatchHit.objects.create(watch=watch, item=item)
    return watch


def matched(org: Any, items: list[Any], claim: CheckedClaim) -> None:
    for item in items:
        ClaimMatch.objects.create(organization=org, item=item, claim=claim, similarity=0.7)


def test_a_watch_that_follows_a_claim_brings_its_hits_close_to_it(
    org: Any, post: Callable[..., Any], water: CheckedClaim
) -> None:
    seeds = [
        post("L'eau du robinet est contaminée à Saint-Aubin, ne buvez pas !!", "s1"),
        post("Bactérie dans l'eau du robinet à Saint-Aubin, achetez des bouteilles", "s2"),
    ]
    rumour = post("Il paraît que l'eau du robinet est contaminée aux Tilleuls, bactérie", "r")
    works = post("Coupure d'eau mardi matin rue des Écoles pour des travaux", "w")
    elsewhere = post("L'eau du robinet est contaminée, ne buvez pas, bactérie !", "x")
    watch_hits(org, "eau OR robinet", [*seeds, rumour, works])
    matched(org, seeds[:1], water)

    # One match of four hits: the watch does not follow the claim yet.
    assert claims.follow_watches(org) == 0
    matched(org, seeds[1:], water)
    # Two of four: it follows it, and its earlier hits are read again.
    assert claims.follow_watches(org) == 1
    match = ClaimMatch.objects.get(item=rumour)
    assert match.claim == water and match.evidence == ClaimMatch.Evidence.WATCH
    # The hit about something else stays out, and so does an item no watch found.
    assert not ClaimMatch.objects.filter(item__in=[works, elsewhere]).exists()
    assert claims.follow_watches(org) == 0


def test_a_broad_watch_follows_no_claim(
    org: Any, post: Callable[..., Any], water: CheckedClaim
) -> None:
    seeds = [post(f"L'eau du robinet est contaminée, bactérie ! ({n})", f"s{n}") for n in range(2)]
    rumour = post("Il paraît que l'eau du robinet est contaminée aux Tilleuls, bactérie", "r")
    about_the_town = [post(text, f"h{n}") for n, text in enumerate(ORDINARY[:8])]
    watch_hits(org, "Saint-Aubin", [*seeds, rumour, *about_the_town])
    matched(org, seeds, water)
    # 2 of 11 hits repeat the claim: under a quarter, the watch is not the claim's story.
    assert claims.follow_watches(org) == 0
    assert not ClaimMatch.objects.filter(item=rumour).exists()


def test_the_organizations_own_hits_are_neither_counted_nor_matched(
    org: Any, post: Callable[..., Any], water: CheckedClaim
) -> None:
    ProtectedIdentity.objects.create(organization=org, name="Mairie", handles=["mairie"])
    seeds = [post(f"L'eau du robinet est contaminée, bactérie ! ({n})", f"s{n}") for n in range(2)]
    denial = post(
        "L'eau du robinet n'est pas contaminée, aucune bactérie, elle est potable", "mairie"
    )
    watch_hits(org, "eau", [*seeds, denial])
    matched(org, seeds, water)
    claims.follow_watches(org)
    assert not ClaimMatch.objects.filter(item=denial).exists()


def test_replies_under_an_item_that_spreads_a_claim_are_matched_to_it(
    org: Any, post: Callable[..., Any], water: CheckedClaim
) -> None:
    ProtectedIdentity.objects.create(organization=org, name="Mairie", handles=["mairie"])
    hoax = post("L'eau du robinet est contaminée à Saint-Aubin !!", "s1", kind="post")
    doubt = post("C'est vrai ?? Quelqu'un a une source ?", "q", parent=hoax)
    echo = post("Faites tourner un max", "e", parent=doubt)
    answer = post("Bonjour, l'eau est potable, voici les analyses.", "mairie", parent=doubt)
    under_answer = post("Merci pour la réponse", "m", parent=answer)
    unrelated = post("Le marché de Noël commence samedi", "n", kind="post")
    aside = post("Trop bien", "a", parent=unrelated)
    matched(org, [hoax], water)

    assert claims.follow_threads(org) == 2
    found = {m.item_id: m for m in ClaimMatch.objects.filter(evidence="thread")}
    assert set(found) == {doubt.pk, echo.pk}
    assert all(m.claim == water and -1.0 <= m.similarity <= 1.0 for m in found.values())
    # Not the organization's answer, nor what is said under it, nor another thread.
    assert not ClaimMatch.objects.filter(item__in=[answer, under_answer, aside]).exists()
    assert claims.follow_threads(org) == 0


def test_every_match_says_why_on_the_item_page_the_list_and_the_api(
    org: Any,
    post: Callable[..., Any],
    water: CheckedClaim,
    make_user: Callable[..., Any],
    verified_client: Callable[[Any], Any],
) -> None:
    hoax = post("L'eau du robinet est contaminée à Saint-Aubin !!", "s1", kind="post")
    doubt = post("C'est vrai ?? Quelqu'un a une source ?", "q", parent=hoax)
    matched(org, [hoax], water)
    claims.follow_threads(org)
    client = verified_client(make_user("claire", org=org, role="moderator"))
    english = {"headers": {"Accept-Language": "en"}}
    page = client.get(f"/o/{org.slug}/items/{doubt.pk}/", **english).content.decode()
    assert "Answers or quotes an item that repeats the claim" in page
    listed = client.get(f"/o/{org.slug}/veille/claims/matches/", **english).content.decode()
    assert "Its words and meaning repeat the claim" in listed
    assert "Answers or quotes an item that repeats the claim" in listed
    french = client.get(
        f"/o/{org.slug}/items/{doubt.pk}/", headers={"Accept-Language": "fr"}
    ).content.decode()
    assert "Répond à un élément qui reprend l’affirmation" in french
    csv = b"".join(
        client.get(f"/o/{org.slug}/veille/claims/matches/?format=csv").streaming_content
    ).decode()
    rows = list(csv_module.reader(io.StringIO(csv.lstrip("\ufeff"))))
    assert rows[0][8] == "evidence"
    assert sorted(row[8] for row in rows[1:]) == ["text", "thread"]
    from beffroi.accounts.models import ApiToken

    _, key = ApiToken.issue(make_user("api", org=org, role="analyst"), "test")
    api = client.get(
        f"/api/v1/orgs/{org.slug}/claim-matches", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert {(row["item_id"], row["evidence"]) for row in api["items"]} == {
        (hoax.pk, "text"),
        (doubt.pk, "thread"),
    }
