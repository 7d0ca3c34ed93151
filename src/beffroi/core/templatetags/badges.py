"""The one set of badge tones: ``<span class="badge {{ value|badge_tone }}">``.

A badge always carries a word; its tone only repeats it. The tones are the classes of
app.css (``badge-ok``, ``badge-warn``, ``badge-error``, ``badge-info``, ``badge-neutral``;
the plain ``badge`` is a label without tone),
and the states shown as badges are given a tone here, once, instead of a class per state.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

#: The tone of each stored state shown as a badge (items, sources, cases, charter versions,
#: invitations). A value that is not here gets the plain badge.
TONES: dict[str, str] = {
    # Something new to look at: an item, a source never synced, a draft, an invitation.
    "new": "badge-info",
    "draft": "badge-info",
    "pending": "badge-info",
    # A case that is not a first review: someone asked for it.
    "appeal": "badge-info",
    "escalation": "badge-info",
    # Waiting, or running without acting.
    "in_review": "badge-warn",
    "publishing": "badge-warn",
    "unattempted": "badge-warn",
    "suspended": "badge-warn",
    "rate_limited": "badge-warn",
    "shadow": "badge-warn",
    # Done, in force, working.
    "processed": "badge-ok",
    "done": "badge-ok",
    "ok": "badge-ok",
    "live": "badge-ok",
    "accepted": "badge-ok",
    "approved": "badge-ok",
    "scheduled": "badge-ok",
    "published": "badge-ok",
    "simulated": "badge-ok",
    "exported": "badge-warn",
    # Broken: someone must act.
    "error": "badge-error",
    "auth_failed": "badge-error",
    "failed": "badge-error",
    # Over, of no more concern.
    "retired": "badge-neutral",
    "declined": "badge-neutral",
    "revoked": "badge-neutral",
    "expired": "badge-neutral",
    "approval_expired": "badge-neutral",
}


@register.filter
def badge_tone(value: Any) -> str:
    """The class of the tone of ``value``'s badge."""
    return TONES.get(str(value), "")
