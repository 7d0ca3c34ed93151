"""What an entry's approval is bound to, and who may give it.

The approval covers what the entry says and on what grounds: its texts, its sources (address
and title), its strategy, tone, targeted groups, licence and dates of validity. Its internal
title, its topics and its links to narratives and claims are the library's own filing: they
change without a new approval. Nobody approves an entry they wrote: neither its author nor
anyone who wrote a version since the last approval.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.translation import gettext as _

from beffroi.counterspeech.models import Entry, EntryVersion


def content(entry: Entry) -> dict[str, Any]:
    """What the approval covers, as plain data."""
    return {
        "texts": {text.language: text.text for text in entry.texts.order_by("language")},
        "sources": [[source.url, source.title] for source in entry.sources.order_by("position")],
        "strategy": entry.strategy,
        "tone": entry.tone,
        "targets": sorted(entry.targets),
        "licence": entry.licence,
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else None,
    }


def content_hash(entry: Entry) -> str:
    """A fingerprint of :func:`content`: an approval is given to it."""
    encoded = json.dumps(content(entry), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def whole(entry: Entry) -> dict[str, Any]:
    """The whole entry as plain data: what a version keeps."""
    return {
        **content(entry),
        "title": entry.title,
        "topics": list(entry.topics),
        "narratives": sorted(entry.narratives.values_list("pk", flat=True)),
        "claims": sorted(entry.claims.values_list("pk", flat=True)),
        "state": entry.state,
        "version": entry.version,
    }


def writers_since_approval(entry: Entry) -> set[int]:
    """The accounts that wrote the entry or a version of it since its last approval."""
    versions = EntryVersion.objects.filter(entry=entry, author__isnull=False)
    if entry.approved_version is not None:
        versions = versions.filter(number__gt=entry.approved_version)
    writers = set(versions.values_list("author_id", flat=True))
    if entry.author_id is not None:
        writers.add(entry.author_id)
    return writers


def refusal(user: Any, entry: Entry) -> str | None:
    """Why ``user`` may not approve or send back ``entry`` now (a sentence), or None. The
    capability is checked by the service; this is the library's own rule."""
    if entry.state != Entry.State.IN_REVIEW:
        return _("This entry is not waiting for an approval.")
    if user is None or not getattr(user, "is_authenticated", False):
        return _("An entry is approved by a member of the organization.")
    if user.pk in writers_since_approval(entry):
        return _("No one approves an entry they wrote.")
    return None
