"""The impersonation detector's evidence, read into sentences (``veille.wording``)."""

from __future__ import annotations

import pytest
from django.utils import translation

from beffroi.analysis.impersonation import Account, ProtectedIdentity, find_impersonators
from beffroi.veille.wording import PHRASES, evidence_sentence


@pytest.mark.parametrize(
    ("stored", "sentence"),
    [
        (
            "display name 'Claire Dumas - Maire' is 94% similar to the official 'Claire Dumas' "
            "(Jaro-Winkler)",
            "The display name “Claire Dumas - Maire” is 94 % similar to the official "
            "“Claire Dumas” (Jaro-Winkler).",
        ),
        (
            "handle 'c1aire_dumas' reads the same as the official 'claire_dumas' "
            "(look-alike characters)",
            "The handle “c1aire_dumas” reads the same as the official “claire_dumas” "
            "(look-alike characters).",
        ),
        (
            "handle 'claire_dumass' is 1 letter(s) away from the official 'claire_dumas'",
            "The handle “claire_dumass” is 1 letter away from the official “claire_dumas”.",
        ),
        (
            "handle 'claire_dumas' is the same as the official 'claire_dumas'",
            "The handle “claire_dumas” is the same as the official “claire_dumas”.",
        ),
        (
            "display name 'Mairie Saint-Aubin officiel' contains the official 'Mairie Saint-Aubin'",
            "The display name “Mairie Saint-Aubin officiel” contains the official "
            "“Mairie Saint-Aubin”.",
        ),
        (
            "display name 'Dumas Claire' holds every word of 'Claire Dumas'",
            "The display name “Dumas Claire” holds every word of “Claire Dumas”.",
        ),
        (
            "profile photo matches an official photo (3 of 64 bits differ)",
            "The profile photo matches an official photo (3 of 64 bits differ).",
        ),
    ],
)
def test_each_phrase_reads_as_a_sentence(stored: str, sentence: str) -> None:
    with translation.override("en"):
        assert evidence_sentence(stored) == sentence


def test_the_detector_phrases_are_all_known() -> None:
    """What the detector writes today is read here (a new phrase fails this test)."""
    identity = ProtectedIdentity(
        "Claire Dumas", handles=("claire_dumas",), display_names=("Mairie Saint-Aubin",)
    )
    accounts = [
        Account("x", "1", "claire_dumas", "Claire Dumas"),
        Account("x", "2", "c1aire_dumas", "Dumas Claire"),
        Account("x", "3", "claire_dumass", "Claire Dumas - Maire"),
        Account("x", "4", "fan", "Mairie Saint-Aubin officiel"),
    ]
    reasons = [r for s in find_impersonators(accounts, [identity]) for r in s.reasons]
    assert reasons
    for reason in reasons:
        assert any(pattern.fullmatch(reason) for pattern, _ in PHRASES), reason


def test_an_unknown_phrase_is_shown_as_written() -> None:
    assert evidence_sentence("something else") == "something else"
