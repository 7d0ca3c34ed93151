"""Texts a reply may begin as, offered by the layers above the desks.

The answering desk's reply box opens with a text when its address names one
(``?draft=counter-speech:<key>&lang=fr``): a counter-speech entry chosen on a case or an
item. The desk does not know the library; the library registers a source of drafts here
when it starts, and the desk asks this module. The reply records which text it began as
(``Reply.drafted_from``), which the library counts as a use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Draft:
    """A text to start a reply with: ``ref`` (``<kind>:<key>``) says where it comes from,
    ``label`` names it for the person (translated)."""

    ref: str
    text: str
    label: str
    language: str = ""


#: ``source(organization, key, language) -> Draft | None`` (None: unknown or not readable
#: by that organization).
DraftSource = Callable[[Any, str, str], Draft | None]

_SOURCES: dict[str, DraftSource] = {}


def register_draft_source(kind: str, source: DraftSource) -> None:
    if ":" in kind:
        raise ValueError("a draft source's kind has no colon")
    _SOURCES[kind] = source


def resolve_draft(organization: Any, ref: str, language: str = "") -> Draft | None:
    """The draft ``ref`` names for ``organization``; None when the reference is malformed,
    of no registered kind, or not one the organization may read."""
    kind, separator, key = (ref or "").partition(":")
    source = _SOURCES.get(kind)
    if not separator or not key or source is None or len(ref) > 100:
        return None
    return source(organization, key, (language or "")[:8])
