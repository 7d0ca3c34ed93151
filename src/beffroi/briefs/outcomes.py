"""What followed a brief's answers, per partner (``counterspeech.outcomes`` read on each
partner's own items): "did it work?" per brief, beside the library's per-strategy view.

Only partners of this instance are read (their items are here); a partner on another
Beffroi sends its answers, not its threads. Each answered post counts once per partner, at
its first answer.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from beffroi.briefs.models import Brief, BriefDelivery
from beffroi.briefs.services import matching_items
from beffroi.counterspeech.outcomes import Outcome, Summary, outcomes_for_items, overall, summary


def brief_outcomes(brief: Brief) -> tuple[list[Summary], Summary | None]:
    """One summary per partner of this instance that answered, and all of them together
    (None when no answered post of theirs is known here)."""
    rows: list[Summary] = []
    every: list[Outcome] = []
    deliveries = (
        BriefDelivery.objects.filter(brief=brief, organization__isnull=False)
        .select_related("organization")
        .order_by("organization__name", "id")
    )
    for delivery in deliveries:
        partner = delivery.organization
        if partner is None:  # filtered above: for the type checker
            continue
        first: dict[int, datetime] = {}
        for response in delivery.responses.order_by("answered_at", "id"):
            first.setdefault(response.post_id, response.answered_at)
        if not first:
            continue
        posts = list(brief.posts.filter(pk__in=first))
        items = matching_items(partner, posts)
        answers = [(items[post.pk], first[post.pk]) for post in posts if post.pk in items]
        found = outcomes_for_items(partner, answers)
        if found:
            rows.append(summary(str(partner.pk), partner.name, found))
            every.extend(found)
    if not every:
        return [], None
    return rows, overall(every) if len(rows) > 1 else None


def caveat() -> str:
    return _(
        "Observations, not experiments: other things happened at the same time, the numbers "
        "are small and there is no comparison group."
    )
