"""What the detectors found and why a case was opened, as sentences in the reader's language.

The decision engine records what triggered a verdict in its own shorthand ("rules:
rule:fr.threat.tu_vas_payer", "classifier: emoji_folded_hands", "openai: label:harassment"),
and a case its reason in the language of the moment it was opened. Both are stored as they
were written (the record does not change); they are read here, at display time, into a
sentence of the interface's language.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from beffroi.moderation.models import Decision

#: The detectors by the name a moderator knows them by.
DETECTOR_NAMES = {
    "rules": gettext_lazy("Charter rules"),
    "classifier": gettext_lazy("Classifier"),
}

#: Why a rule's weight was lowered (``analysis.moderation.rules.DAMPING``).
DAMPING_REASONS = {
    "negation": gettext_lazy("counted for less: a negation comes before it"),
    "quotation": gettext_lazy("counted for less: it is quoted"),
    "counter_speech": gettext_lazy("counted for less: the text answers or denounces it"),
}


def detector_name(detector: str) -> str:
    name = DETECTOR_NAMES.get(detector)
    return str(name) if name is not None else detector


@lru_cache(maxsize=512)
def _emoji(token: str) -> str | None:
    """The emoji a classifier token names (``emoji_folded_hands`` → 🙏), if there is one."""
    import emoji

    wanted = token.removeprefix("emoji_")
    for char, data in emoji.EMOJI_DATA.items():
        name = str(data.get("en", "")).strip(":").casefold()
        if re.sub(r"[^a-z0-9]+", "_", name).strip("_") == wanted:
            return str(char)
    return None


def trigger(detector: str, detail: str) -> str:
    """One entry of what triggered a verdict, as a sentence."""
    kind, sep, value = detail.partition(":")
    if detector == "rules" and sep:
        if kind == "rule":
            return _("Charter rule %(rule)s") % {"rule": value}
        if kind == "match":
            return _("The words “%(words)s” matched a rule") % {"words": value}
        if kind == "dampened":
            reason = DAMPING_REASONS.get(value)
            return str(reason) if reason is not None else value
    if sep and kind == "model":
        return _("Model: %(model)s") % {"model": value}
    if sep and kind == "label":
        return _("The service classed it as “%(label)s”") % {"label": value}
    if detail == "flagged":
        return _("The service flagged it")
    if detail == "embedding":
        return _("The meaning of the whole text (sentence model)")
    if detail.startswith("emoji_"):
        char = _emoji(detail)
        if char is not None:
            return _("The emoji %(emoji)s weighed towards this category") % {"emoji": char}
    if detector == "classifier" and detail:
        return _("The word “%(word)s” weighed towards this category") % {"word": detail}
    return detail


def triggers(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``explanation_rows`` as (detector's name, sentence) pairs."""
    return [(detector_name(detector), trigger(detector, detail)) for detector, detail in rows]


# --- a case's reason ------------------------------------------------------------------------

#: Reasons the application writes on a case (``moderation.services``), by the msgid it used.
DOUBTFUL = "Doubtful: %(category)s (%(score).0f%%)"
APPEAL = "Appeal against a decision"
ESCALATED = "Escalated by %(name)s"
REOPENED = "Reopened by %(name)s"


def _in_every_language(msgid: str) -> list[str]:
    found = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.append(_(msgid))
    return found


def _pattern(template: str) -> re.Pattern[str]:
    """A written reason back to its values: each ``%(name)…`` becomes a named group."""
    parts = re.split(r"(%\([a-z]+\)[.0-9]*[sdf]|%%)", template)
    out = []
    for part in parts:
        found = re.fullmatch(r"%\(([a-z]+)\)[.0-9]*[sdf]", part)
        if found:
            out.append(f"(?P<{found.group(1)}>.+?)")
        elif part == "%%":
            out.append("%")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def case_reason(reason: str, category: str = "", category_name: str = "") -> str:
    """A case's reason in the reader's language when the application wrote it, else as
    written (a person's note). ``category_name``: the case's category as the charter names
    it today, in the reader's language."""
    if not reason:
        return reason
    if reason in _in_every_language(APPEAL):
        return _(APPEAL)
    for written in _in_every_language(DOUBTFUL):
        found = _pattern(written).fullmatch(reason)
        if found:
            try:
                score = float(found.group("score").replace(",", ".").strip())
            except ValueError:
                break
            return _(DOUBTFUL) % {
                "category": category_name or found.group("category"),
                "score": score,
            }
    for msgid in (ESCALATED, REOPENED):
        for written in _in_every_language(msgid):
            found = _pattern(written).fullmatch(reason)
            if found:
                return _(msgid) % {"name": found.group("name")}
    return reason


# --- the charter a decision cited -----------------------------------------------------------


def cited_category(decision: Decision) -> tuple[str, str]:
    """The category's name and clause a decision cited, in the reader's language: read from
    the charter version it cited (a category has both languages); as recorded when that
    version no longer has it."""
    from beffroi.charter.models import Category

    snapshot = decision.charter_snapshot if isinstance(decision.charter_snapshot, dict) else {}
    recorded = (str(snapshot.get("name") or decision.category), decision.clause)
    if not decision.category or decision.charter_version is None:
        return recorded
    category = Category.objects.filter(
        version__organization_id=decision.organization_id,
        version__number=decision.charter_version,
        slug=decision.category,
    ).first()
    if category is None:
        return recorded
    return category.name(), category.clause() if decision.clause else ""
