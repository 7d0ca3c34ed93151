"""Recognising a publication among the account's own posts, through the rewrites platforms
make (``beffroi.connectors.reconcile``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from beffroi.connectors.base import OwnPost
from beffroi.connectors.reconcile import CLOCK_MARGIN, can_tell, comparable, find_published

STARTED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SENT = (
    "Travaux & coupure d'eau rue Victor Hugo demain\n\n"
    "Détails : https://ville.example/travaux?utm_source=x&utm_campaign=eau"
)


def _post(text: str, minutes: float = 0.5, platform_id: str = "1") -> OwnPost:
    return OwnPost(platform_id, text, STARTED + timedelta(minutes=minutes))


def test_x_rewrites_links_and_escapes_entities_and_the_post_is_still_found() -> None:
    seen = _post(
        "Travaux &amp; coupure d'eau rue Victor Hugo demain\n\nDétails : https://t.co/a1B2c3"
    )
    assert find_published(SENT, [seen], STARTED) == seen


def test_composed_and_decomposed_accents_are_the_same_text() -> None:
    decomposed = SENT.replace("é", "e\u0301")
    assert find_published(SENT, [_post(decomposed)], STARTED) is not None


def test_another_text_is_not_the_publication() -> None:
    other = _post("Travaux & coupure d'eau rue Jean Jaurès demain https://t.co/zz")
    assert find_published(SENT, [other], STARTED) is None


def test_the_same_text_published_before_the_call_is_not_it() -> None:
    # Last week's identical post (a repeating one) is older than the call.
    older = _post(SENT, minutes=-(CLOCK_MARGIN.total_seconds() / 60) - 1)
    assert find_published(SENT, [older], STARTED) is None
    # A platform clock a little behind ours is forgiven.
    assert find_published(SENT, [_post(SENT, minutes=-1)], STARTED) is not None


def test_of_two_copies_the_first_is_the_publication() -> None:
    first, second = _post(SENT, 0.2, "first"), _post(SENT, 3, "second")
    assert find_published(SENT, [second, first], STARTED) == first


def test_a_text_of_links_only_cannot_be_told_apart() -> None:
    assert not can_tell("https://ville.example/a  https://ville.example/b")
    assert find_published("https://ville.example/a", [_post("https://t.co/x")], STARTED) is None
    assert can_tell(SENT)
    assert comparable("  a\n\tb  https://x.example/y ") == "a b"
