"""The library entries suggested to answer an item: a hateful comment in the queue, a post
that repeats a checked hoax, a member of a narrative or a campaign.

Ranking is :class:`~beffroi.analysis.counterspeech.retrieval.CounterSpeechIndex` over the
texts of every entry the organization may suggest (its own approved ones and those of the
libraries it subscribes to, within their dates: an out-of-date figure is never suggested),
one document per text and language, so that a French post finds an English-only entry. The
entries people linked to the item's checked claim or narrative come first: a person said
they answer it. Each suggestion says why, and its text is in the author's language when the
entry has it.

An index is built once per library state (the entries' count, their last change, the day:
dates move entries in and out), kept in the process and on disk (the texts' embeddings and
the built index), so that another process or a restart reads it instead of building it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from beffroi.analysis.counterspeech import retrieval
from beffroi.analysis.counterspeech.retrieval import CounterSpeechEntry, CounterSpeechIndex
from beffroi.config import cache_dir
from beffroi.counterspeech.models import Entry, EntryText, Target, local_day
from beffroi.counterspeech.services import visible_entries
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.models import ClaimMatch, NarrativeItem

logger = logging.getLogger(__name__)

#: Moderation categories whose comments counter-speech answers (a threat or a defamation
#: goes to the authorities, not to a reply).
ANSWERED_CATEGORIES = frozenset({"hate", "harassment", "insult", "terrorism"})
#: Suggestions shown.
TOP = 5
#: Documents ranked before entries are merged (an entry has a document per language).
CANDIDATES = 30
#: Libraries whose index a process keeps.
KEPT_INDEXES = 8
#: Words too common to be a reason ("shared words").
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


@dataclass(frozen=True)
class Suggested:
    """One entry to answer with: the text in the chosen language, and why it came."""

    entry: Entry
    text: str
    language: str
    rank: int
    why: tuple[str, ...]
    #: A person linked the entry to the item's claim or narrative.
    linked: bool = False

    @property
    def ref(self) -> str:
        return f"counter-speech:{self.entry.key}"


_indexes: OrderedDict[tuple[Any, ...], CounterSpeechIndex] = OrderedDict()
_lock = threading.Lock()


def suggestible(organization: Organization | int) -> Any:
    """The entries the organization may be offered now."""
    return visible_entries(organization).suggestible()


def _fingerprint(organization: Organization) -> tuple[Any, ...]:
    entries = suggestible(organization)
    state = entries.aggregate(count=Count("id", distinct=True), changed=Max("updated_at"))
    texts = EntryText.objects.filter(entry__in=entries).aggregate(count=Count("id"))
    return (organization.pk, state["count"], state["changed"], texts["count"], local_day(None))


class _LibraryEmbedder:
    """The sentence encoder, remembering the library's texts on disk (the first call) and
    embedding queries as they come (later calls)."""

    def __init__(self) -> None:
        self._library_done = False

    def __call__(self, texts: Sequence[str]) -> Any:
        from beffroi.analysis.moderation.embedding import cached_embed, embed

        if self._library_done:
            return embed(texts)
        self._library_done = True
        return cached_embed(texts, cache_dir() / "counterspeech")


def _build(organization: Organization) -> CounterSpeechIndex | None:
    """One document per text: the ids say ``<entry pk>:<language>``."""
    texts = (
        EntryText.objects.filter(entry__in=suggestible(organization))
        .select_related("entry")
        .order_by("entry_id", "language")
    )
    entries: list[CounterSpeechEntry] = []
    for row in texts:
        if not row.text.strip():
            continue
        entries.append(
            CounterSpeechEntry(
                id=f"{row.entry_id}:{row.language}",
                text=row.text,
                language=row.language,
                targets=tuple(row.entry.targets or ()),
                strategy=row.entry.strategy,
            )
        )
    if not entries:
        return None
    # The same encoder as the seed corpus's cached background: calibrated on it.
    return CounterSpeechIndex(entries, embedder=_LibraryEmbedder(), seed_background=True)


def _stored_path(key: tuple[Any, ...]) -> Path:
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return cache_dir() / "counterspeech" / f"index-{key[0]}-{digest}.pickle"


def _stored(key: tuple[Any, ...]) -> CounterSpeechIndex | None:
    """The index another process built for this state of the library (a pickle in the data
    directory, written by this module only: as trusted as the database)."""
    path = _stored_path(key)
    try:
        with path.open("rb") as stored:
            index = pickle.load(stored)  # noqa: S301 - our own file, see above
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None
    return index if isinstance(index, CounterSpeechIndex) else None


def _store(key: tuple[Any, ...], index: CounterSpeechIndex) -> None:
    path = _stored_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for older in path.parent.glob(f"index-{key[0]}-*.pickle"):
            older.unlink(missing_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            pickle.dump(index, out, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
    except OSError:
        logger.warning("the counter-speech index could not be kept on disk", exc_info=True)


def library_index(organization: Organization) -> CounterSpeechIndex | None:
    """The organization's index for its library as it is now: kept by the process, else
    read from the data directory, else built (and kept in both)."""
    key = _fingerprint(organization)
    with _lock:
        if key in _indexes:
            _indexes.move_to_end(key)
            return _indexes[key]
    built = _stored(key)
    if built is None:
        built = _build(organization)
        if built is None:
            return None
        _store(key, built)
    with _lock:
        for stale in [old for old in _indexes if old[0] == organization.pk]:
            del _indexes[stale]
        _indexes[key] = built
        while len(_indexes) > KEPT_INDEXES:
            _indexes.popitem(last=False)
    return built


def forget_indexes(*, on_disk: bool = False) -> None:
    """Drop every index this process keeps, and with ``on_disk`` those of the data
    directory too (tests, the bench; a library restored from a backup)."""
    with _lock:
        _indexes.clear()
    if on_disk:
        for stored in (cache_dir() / "counterspeech").glob("index-*.pickle"):
            stored.unlink(missing_ok=True)


def needs_counter_speech(item: Item) -> bool:
    """Whether the item is one counter-speech answers: judged hateful, or repeating a
    checked claim, or part of a narrative or a campaign."""
    category = (item.analysis or {}).get("category") or ""
    if category in ANSWERED_CATEGORIES:
        return True
    return (
        ClaimMatch.objects.filter(item=item).exists()
        or NarrativeItem.objects.filter(item=item).exists()
        or item.campaigns.exists()
    )


def _linked_entries(organization: Organization, item: Item) -> dict[int, str]:
    """Entries a person linked to the item's checked claims or narrative, with the reason."""
    linked: dict[int, str] = {}
    candidates = suggestible(organization)
    claims = list(ClaimMatch.objects.filter(item=item).select_related("claim")[:5])
    for match in claims:
        for entry_id in candidates.filter(claims=match.claim).values_list("id", flat=True):
            linked.setdefault(
                entry_id,
                _("answers the checked claim « %(claim)s »")
                % {"claim": _short(match.claim.statement)},
            )
    membership = NarrativeItem.objects.filter(item=item).select_related("narrative").first()
    if membership is not None:
        narrative = membership.narrative
        for entry_id in candidates.filter(narratives=narrative).values_list("id", flat=True):
            linked.setdefault(
                entry_id,
                _("answers the narrative « %(narrative)s »")
                % {"narrative": _short(str(narrative))},
            )
    return linked


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text)}


def _reasons(
    evidence: tuple[str, ...], entry: Entry, predicted: set[str], shared: tuple[str, ...]
) -> list[str]:
    reasons: list[str] = []
    if retrieval.SAME_TARGET in evidence or predicted & set(entry.targets or ()):
        groups = [str(Target(target).label) for target in entry.targets if target in predicted]
        groups = groups or [str(Target(target).label) for target in entry.targets[:1]]
        if groups:
            reasons.append(
                _("defends the group the post attacks: %(groups)s") % {"groups": ", ".join(groups)}
            )
    if retrieval.MEANING in evidence:
        reasons.append(_("close in meaning"))
    if shared:
        reasons.append(_("shared words: %(words)s") % {"words": ", ".join(shared)})
    return reasons


def suggest(organization: Organization, item: Item, *, top: int = TOP) -> list[Suggested]:
    """The best entries to answer ``item`` with, best first (empty: nothing to suggest)."""
    index = library_index(organization)
    if index is None:
        return []
    language = (item.language or "").lower()[:8]
    ranked = index.rank(item.text or "", language or None, top=CANDIDATES)
    predicted = _predicted_targets(index, item.text or "")
    linked = _linked_entries(organization, item)
    order: list[int] = list(linked)
    evidence: dict[int, tuple[str, ...]] = {}
    for suggestion in ranked:
        entry_id = int(suggestion.entry.id.split(":", 1)[0])
        if entry_id not in evidence:
            evidence[entry_id] = suggestion.why
        if entry_id not in order:
            order.append(entry_id)
    chosen = order[:top]
    entries = {
        entry.pk: entry
        for entry in Entry.objects.filter(pk__in=chosen)
        .select_related("organization")
        .prefetch_related("texts")
    }
    item_words = _words(item.text or "")
    results: list[Suggested] = []
    for rank, entry_id in enumerate(chosen, start=1):
        entry = entries.get(entry_id)
        if entry is None:  # changed since the index was built
            continue
        text_row = text_for(entry, language)
        if text_row is None:
            continue
        shared = tuple(sorted(item_words & _words(text_row.text))[:4])
        reasons = [linked[entry_id]] if entry_id in linked else []
        reasons += _reasons(evidence.get(entry_id, ()), entry, predicted, shared)
        if language and text_row.language == language:
            reasons.append(_("in the author's language"))
        results.append(
            Suggested(
                entry=entry,
                text=text_row.text,
                language=text_row.language,
                rank=rank,
                why=tuple(reasons),
                linked=entry_id in linked,
            )
        )
    return results


def _predicted_targets(index: CounterSpeechIndex, text: str) -> set[str]:
    """The groups the post most probably attacks (probability at least one half)."""
    probabilities = index.predict_targets([text])
    if probabilities.shape[1] == 0:
        return set()
    row = probabilities[0]
    return {index.targets[int(column)] for column in np.flatnonzero(row >= 0.5)}


def text_for(entry: Entry, language: str) -> EntryText | None:
    """The entry's text in ``language``, else in French, else its first."""
    texts = sorted(entry.texts.all(), key=lambda text: text.language)
    for wanted in (language, "fr"):
        for text in texts:
            if wanted and text.language == wanted:
                return text
    return texts[0] if texts else None
