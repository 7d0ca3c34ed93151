"""Move the veille's rebuttals into the library: each checked claim's suggested reply
(``CheckedClaim.reply``, dropped by ``veille.0007`` right after this migration) becomes an
approved entry of its organization, of origin ``rebuttal``, linked to the claim.

The reply was the organization's own answer, already in use: the entry is approved as it is
(no approver: nobody approved it in the library), with one version saying where it came from.
Running it again adds nothing (one entry per claim, by its key). The reverse puts each entry's
text back into its claim's reply where that reply is empty, and deletes the entries it made.
"""

import hashlib
import json
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone
from django.utils.text import Truncator

#: The entry of the claim whose key is K is ``rebuttal-K`` (the claims' keys are 40
#: characters; the entries' 64).
KEY_PREFIX = "rebuttal-"
KEY_LENGTH = 64
TITLE_LENGTH = 200
SOURCE_TITLE_LENGTH = 300
REASON = "moved from the veille"
#: Who a version names when no account wrote it.
AUTHOR_LABEL = "veille"
DEFAULT_LANGUAGE = "fr"


def shortened(text: str, limit: int) -> str:
    """``text`` on one line within ``limit`` characters (as the entry form's prefill)."""
    return Truncator(" ".join(text.split())).chars(limit)


def language_of(claim: Any) -> str:
    """The claim's language as an ISO 639-1 code (``fr-FR`` → ``fr``), French when it has
    none the library accepts."""
    primary = (claim.language or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if len(primary) == 2 and primary.isalpha() else DEFAULT_LANGUAGE


# ``content`` and ``content_hash`` are those of ``beffroi.counterspeech.approval`` when this
# migration was written, copied rather than imported: a migration must do tomorrow what it
# did today, whatever the approval module becomes.
def content(entry: Any) -> dict[str, Any]:
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


def content_hash(entry: Any) -> str:
    encoded = json.dumps(content(entry), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def whole(entry: Any) -> dict[str, Any]:
    """What a version keeps (``approval.whole`` then)."""
    return {
        **content(entry),
        "title": entry.title,
        "topics": list(entry.topics),
        "narratives": sorted(entry.narratives.values_list("pk", flat=True)),
        "claims": sorted(entry.claims.values_list("pk", flat=True)),
        "state": entry.state,
        "version": entry.version,
    }


def move_rebuttals(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    CheckedClaim = apps.get_model("veille", "CheckedClaim")
    Entry = apps.get_model("counterspeech", "Entry")
    EntryText = apps.get_model("counterspeech", "EntryText")
    EntrySource = apps.get_model("counterspeech", "EntrySource")
    EntryVersion = apps.get_model("counterspeech", "EntryVersion")
    licence = Entry._meta.get_field("licence").default
    tone = Entry._meta.get_field("tone").default
    for claim in CheckedClaim.objects.exclude(reply="").order_by("pk").iterator():
        if not claim.reply.strip():
            continue
        key = f"{KEY_PREFIX}{claim.key}"[:KEY_LENGTH]
        if Entry.objects.filter(organization_id=claim.organization_id, key=key).exists():
            continue  # moved by an earlier run
        entry = Entry.objects.create(
            organization_id=claim.organization_id,
            key=key,
            title=shortened(claim.statement, TITLE_LENGTH) or key,
            strategy="facts",
            tone=tone,
            licence=licence,
            origin="rebuttal",
            state="approved",
            state_reason=REASON,
            author_id=claim.created_by_id,
            # In use since the claim joined the veille's library.
            approved_at=claim.created_at or timezone.now(),
            approved_version=1,
            version=1,
        )
        EntryText.objects.create(entry=entry, language=language_of(claim), text=claim.reply)
        if claim.url:
            EntrySource.objects.create(
                entry=entry,
                position=0,
                url=claim.url,
                title=shortened(claim.title or claim.source, SOURCE_TITLE_LENGTH),
            )
        entry.claims.add(claim)
        entry.content_hash = entry.approved_hash = content_hash(entry)
        entry.save(update_fields=["content_hash", "approved_hash"])
        EntryVersion.objects.create(
            entry=entry,
            number=1,
            snapshot=whole(entry),
            content_hash=entry.content_hash,
            author_id=claim.created_by_id,
            author_label=AUTHOR_LABEL,
            reason=REASON,
        )


def move_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Best effort: the entry's text in the claim's language (else its first) goes back to
    each claim it is linked to whose reply is empty; the entries are deleted."""
    CheckedClaim = apps.get_model("veille", "CheckedClaim")
    Entry = apps.get_model("counterspeech", "Entry")
    moved = Entry.objects.filter(origin="rebuttal", key__startswith=KEY_PREFIX)
    for entry in moved.prefetch_related("texts", "claims").order_by("pk"):
        texts = {text.language: text.text for text in entry.texts.all()}
        if not texts:
            continue
        named = CheckedClaim.objects.filter(
            organization_id=entry.organization_id, key=entry.key.removeprefix(KEY_PREFIX)
        )
        for claim in {*entry.claims.all(), *named}:
            if not claim.reply:
                claim.reply = texts.get(language_of(claim)) or next(iter(texts.values()))
                claim.save(update_fields=["reply"])
    moved.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("counterspeech", "0002_drafting"),
        # The claims still have their reply there; veille.0007 drops it after this one.
        ("veille", "0006_claimmatch_evidence"),
    ]

    operations = [
        migrations.RunPython(move_rebuttals, move_back),
    ]
