"""Campaign parameters on the organization's own links, and on no one else's."""

from __future__ import annotations

import pytest

from beffroi.analysis.utm import add_utm, is_own_link, tagged_link

OWN = ("ville.fr", "Agglo-Exemple.FR.")
CAMPAIGN = {"utm_source": "mastodon", "utm_medium": "social", "utm_campaign": "fête 2025"}
TAGS = "utm_source=mastodon&utm_medium=social&utm_campaign=f%C3%AAte%202025"


@pytest.mark.parametrize(
    ("link", "own"),
    [
        ("https://ville.fr", True),
        ("https://www.ville.fr/agenda", True),
        ("http://agenda.ville.fr:8080/a", True),
        ("https://AGGLO-exemple.fr/", True),
        ("https://evilville.fr/", False),
        ("https://ville.fr.evil.com/", False),
        ("https://ville.fr@evil.com/", False),  # the host is evil.com, ville.fr is a user name
        ("https://evil.com/?next=https://ville.fr", False),
        ("https://[::1", False),
    ],
)
def test_own_links_are_the_domains_and_their_subdomains(link: str, own: bool) -> None:
    assert is_own_link(link, OWN) is own


def test_parameters_are_added_to_own_links_only() -> None:
    text = "Programme : https://www.ville.fr/fete et https://evilville.fr/fete !"
    assert add_utm(text, OWN, CAMPAIGN) == (
        f"Programme : https://www.ville.fr/fete?{TAGS} et https://evilville.fr/fete !"
    )


def test_existing_query_and_fragment_are_kept_and_utm_never_overridden() -> None:
    link = "https://ville.fr/agenda?quartier=centre&UTM_SOURCE=affiche#samedi"
    assert tagged_link(link, CAMPAIGN) == (
        "https://ville.fr/agenda?quartier=centre&UTM_SOURCE=affiche"
        "&utm_medium=social&utm_campaign=f%C3%AAte%202025#samedi"
    )
    assert (
        tagged_link("https://ville.fr/a?", {"utm_source": "x"}) == "https://ville.fr/a?utm_source=x"
    )
    complete = "https://ville.fr/?utm_source=a&utm_medium=b&utm_campaign=c"
    assert tagged_link(complete, CAMPAIGN) == complete


def test_other_text_and_links_stay_byte_for_byte() -> None:
    text = (
        "Voir (https://ville.fr/plan). Et https://exemple.org/a?b=%7E#c, "
        "ou https://fr.wikipedia.org/wiki/Lyon_(France).\r\n👍 ville.fr"
    )
    tagged = add_utm(text, OWN, {"utm_source": "x"})
    assert tagged == text.replace("https://ville.fr/plan", "https://ville.fr/plan?utm_source=x")
    assert add_utm(text, (), CAMPAIGN) == text
    assert add_utm(text, OWN, {}) == text


def test_sentence_punctuation_is_not_part_of_the_link() -> None:
    assert add_utm("Inscriptions : https://ville.fr/inscription.", OWN, {"utm_source": "x"}) == (
        "Inscriptions : https://ville.fr/inscription?utm_source=x."
    )
    assert add_utm("(https://ville.fr/a, https://ville.fr/b)", OWN, {"utm_source": "x"}) == (
        "(https://ville.fr/a?utm_source=x, https://ville.fr/b?utm_source=x)"
    )
