"""What the library adds to the desks' pages: suggestions beside an item, a case or a
conversation (``core.panels``), the entry a reply box opens with (``core.drafts``), and the
use counted when a reply that began as an entry is recorded (``reply_recorded``)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from beffroi.conversations.models import Conversation, Reply
from beffroi.core.drafts import Draft
from beffroi.counterspeech import services
from beffroi.counterspeech.models import LibrarySettings
from beffroi.counterspeech.suggesting import (
    Suggested,
    needs_counter_speech,
    suggest,
    suggestible,
    text_for,
)
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability

logger = logging.getLogger(__name__)

#: What a draft reference names.
DRAFT_KIND = "counter-speech"
#: The suggestions a language model's draft rests on.
DRAFTED_FROM = 3


def suggestions_panel(request: HttpRequest, item: Item, place: str, **context: Any) -> str:
    """The suggestions for ``item`` on a page of its organization, for members who may
    answer; nothing for an item counter-speech does not answer."""
    org = getattr(request, "org", None)
    if org is None or item.organization_id != org.organization.pk:
        return ""
    if not org.can(Capability.ANSWER) or not needs_counter_speech(item):
        return ""
    organization = org.organization
    suggestions = suggest(organization, item)
    conversation = context.get("conversation") or _conversation_of(organization, item)
    return render_to_string(
        "counterspeech/_suggestions.html",
        {
            "item": item,
            "place": place,
            "in_reply_box": place == "conversation",
            "rows": [
                (
                    suggestion,
                    _answer_url(
                        organization, item, conversation, suggestion, org.can(Capability.PUBLISH)
                    ),
                )
                for suggestion in suggestions
            ],
            "conversation": conversation,
            # A language model's draft from these entries, where its text can go in a box.
            "drafting": place == "conversation"
            and bool(suggestions)
            and LibrarySettings.objects.filter(
                organization=organization, drafting_enabled=True
            ).exists(),
            "draft_keys": [suggestion.entry.key for suggestion in suggestions[:DRAFTED_FROM]],
            "draft_language": (item.language or "fr")[:8],
        },
        request=request,
    )


def _conversation_of(organization: Organization, item: Item) -> Conversation | None:
    """The desk's conversation holding the item, where a reply goes through the desk."""
    return (
        Conversation.objects.for_org(organization)
        .filter(items=item)
        .order_by("-last_citizen_at", "-id")
        .first()
    )


def _answer_url(
    organization: Organization,
    item: Item,
    conversation: Conversation | None,
    suggestion: Suggested,
    can_publish: bool,
) -> str:
    """Where answering with the entry opens the reply box with its text: the item's
    conversation, else a new counter-speech post (approved as the workflows say) for those
    who write posts; nowhere ("") for the others."""
    query = {"draft": suggestion.ref, "lang": suggestion.language}
    if conversation is not None:
        page = reverse(
            "conversations:detail",
            kwargs={"org_slug": organization.slug, "pk": conversation.pk},
        )
        return f"{page}?{urlencode(query)}#reply"
    if not can_publish:
        return ""
    page = reverse("publishing:create", kwargs={"org_slug": organization.slug})
    return f"{page}?{urlencode({'counter_speech': item.pk, **query})}"


def draft_of(organization: Any, key: str, language: str) -> Draft | None:
    """An entry the organization may be offered now, as a reply's starting text."""
    entry = (
        suggestible(organization)
        .filter(key=key)
        .order_by("organization_id")
        .prefetch_related("texts")
        .first()
    )
    if entry is None:
        return None
    text = text_for(entry, language)
    if text is None:
        return None
    return Draft(
        ref=f"{DRAFT_KIND}:{entry.key}",
        text=text.text,
        label=_("counter-speech: %(title)s") % {"title": entry.title},
        language=text.language,
    )


def count_use(sender: Any, reply: Reply, **kwargs: Any) -> None:
    """A reply that began as an entry was recorded: the entry is counted as used."""
    kind, _separator, key = reply.drafted_from.partition(":")
    if kind != DRAFT_KIND or not key:
        return
    entry = (
        services.visible_entries(reply.organization).filter(key=key).order_by("organization_id")
    ).first()
    if entry is None:
        return
    try:
        services.record_use(entry, reply.organization, item=reply.item, user=reply.author)
    except services.LibraryError as exc:  # unsubscribed meanwhile: the reply stands
        logger.info("counter-speech use of %s not counted: %s", entry.pk, exc.code)
