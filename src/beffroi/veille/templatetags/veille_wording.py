"""Template filters that read the veille's stored evidence into sentences (``veille.wording``)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from beffroi.veille.wording import evidence_sentence as sentence

register = template.Library()


@register.filter
def evidence_sentence(reason: object) -> str:
    """One piece of an impersonation flag's evidence, in the reader's language."""
    return sentence(str(reason))


@register.filter
def evidence_sentences(reasons: Iterable[object] | None) -> str:
    """A flag's evidence as one line (the list of impersonators)."""
    return " ".join(sentence(str(reason)) for reason in reasons or [])
