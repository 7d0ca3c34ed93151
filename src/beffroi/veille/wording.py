"""The impersonation detector's evidence, as sentences in the reader's language.

``beffroi.analysis.impersonation`` (plain Python, no Django) writes each resemblance it finds
as an English phrase ("display name 'Claire Dumas - Maire' is 94% similar to the official
'Claire Dumas' (Jaro-Winkler)"), stored as written on the flag. It is read back here into a
translated sentence with the same values; a phrase this module does not know is shown as
written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_QUOTED = r"'(?P<value>.*)'"
_OFFICIAL = r"'(?P<official>.*)'"
_KIND = r"(?P<kind>handle|display name)"


def _same(found: re.Match[str]) -> str:
    if found["kind"] == "handle":
        return _("The handle “%(value)s” is the same as the official “%(official)s”.")
    return _("The display name “%(value)s” is the same as the official “%(official)s”.")


def _lookalike(found: re.Match[str]) -> str:
    if found["kind"] == "handle":
        return _(
            "The handle “%(value)s” reads the same as the official “%(official)s” "
            "(look-alike characters)."
        )
    return _(
        "The display name “%(value)s” reads the same as the official “%(official)s” "
        "(look-alike characters)."
    )


def _distance(found: re.Match[str]) -> str:
    count = int(found["distance"])
    if found["kind"] == "handle":
        return ngettext(
            "The handle “%(value)s” is %(distance)s letter away from the official “%(official)s”.",
            "The handle “%(value)s” is %(distance)s letters away from the official “%(official)s”.",
            count,
        )
    return ngettext(
        "The display name “%(value)s” is %(distance)s letter away from the official "
        "“%(official)s”.",
        "The display name “%(value)s” is %(distance)s letters away from the official "
        "“%(official)s”.",
        count,
    )


def _similar(found: re.Match[str]) -> str:
    if found["kind"] == "handle":
        return _(
            "The handle “%(value)s” is %(similarity)s %% similar to the official "
            "“%(official)s” (Jaro-Winkler)."
        )
    return _(
        "The display name “%(value)s” is %(similarity)s %% similar to the official "
        "“%(official)s” (Jaro-Winkler)."
    )


def _contains(found: re.Match[str]) -> str:
    if found["kind"] == "handle":
        return _("The handle “%(value)s” contains the official “%(official)s”.")
    return _("The display name “%(value)s” contains the official “%(official)s”.")


def _every_word(found: re.Match[str]) -> str:
    return _("The display name “%(value)s” holds every word of “%(official)s”.")


def _photo(found: re.Match[str]) -> str:
    return _("The profile photo matches an official photo (%(bits)s of 64 bits differ).")


#: The phrases of ``analysis.impersonation``, most specific first.
PHRASES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(
            rf"{_KIND} {_QUOTED} reads the same as the official {_OFFICIAL} "
            r"\(look-alike characters\)"
        ),
        _lookalike,
    ),
    (re.compile(rf"{_KIND} {_QUOTED} is the same as the official {_OFFICIAL}"), _same),
    (
        re.compile(
            rf"{_KIND} {_QUOTED} is (?P<distance>\d+) letter\(s\) away from the official "
            rf"{_OFFICIAL}"
        ),
        _distance,
    ),
    (
        re.compile(
            rf"{_KIND} {_QUOTED} is (?P<similarity>\d+)% similar to the official {_OFFICIAL} "
            r"\(Jaro-Winkler\)"
        ),
        _similar,
    ),
    (re.compile(rf"{_KIND} {_QUOTED} contains the official {_OFFICIAL}"), _contains),
    (re.compile(rf"display name {_QUOTED} holds every word of {_OFFICIAL}"), _every_word),
    (
        re.compile(r"profile photo matches an official photo \((?P<bits>\d+) of 64 bits differ\)"),
        _photo,
    ),
]


def evidence_sentence(reason: str) -> str:
    """One piece of a flag's evidence, in the active language."""
    for pattern, sentence in PHRASES:
        found = pattern.fullmatch(reason)
        if found:
            return sentence(found) % found.groupdict()
    return reason
