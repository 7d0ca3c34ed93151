from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def open_alert_count(organization: Any) -> int:
    """Alerts of the organization nobody has acknowledged yet."""
    if organization is None:
        return 0
    from beffroi.veille.models import Alert

    return Alert.objects.filter(
        organization=organization, acknowledged_at__isnull=True, grouped_into=None
    ).count()


@register.inclusion_tag("veille/_item_context.html", takes_context=True)
def item_veille_context(context: template.Context, item: Any) -> dict[str, Any]:
    """What the veille knows of an item, for its page: the checked claims it repeats (with
    their verdict), its narrative, the campaigns it or its author is part of, and whether
    its author may be imitating a protected identity. Shown to the roles that may read the
    veille (the items layer cannot import the veille: this tag is its way in)."""
    capabilities = context.get("current_capabilities") or frozenset()
    if "read_veille" not in capabilities:
        return {"shown": False}
    from django.db.models import Exists, OuterRef, Q

    from beffroi.veille.models import (
        Campaign,
        ClaimMatch,
        ImpersonationFlag,
        NarrativeItem,
    )

    organization = item.organization
    matches = list(
        ClaimMatch.objects.for_org(organization)
        .filter(item=item)
        .select_related("claim")
        .order_by("-similarity", "pk")
    )
    link = (
        NarrativeItem.objects.filter(item=item, narrative__organization=organization)
        .select_related("narrative")
        .first()
    )
    # A campaign the item is a post of, or one its author took part in with other posts;
    # those an analyst dismissed are not campaigns.
    in_campaign = Campaign.items.through.objects.filter(campaign_id=OuterRef("pk"), item_id=item.pk)
    campaigns = list(
        Campaign.objects.for_org(organization)
        .filter(Q(items=item) | Q(authors=item.author_id))
        .exclude(status=Campaign.Status.DISMISSED)
        .annotate(has_item=Exists(in_campaign))
        .distinct()
        .order_by("-last_at", "-pk")[:5]
    )
    flags = list(
        ImpersonationFlag.objects.for_org(organization)
        .filter(
            author_id=item.author_id,
            status__in=[ImpersonationFlag.Status.OPEN, ImpersonationFlag.Status.REPORTED],
        )
        .select_related("identity")
        .order_by("-score", "pk")
    )
    narrative = link.narrative if link is not None else None
    return {
        "shown": bool(matches or narrative or campaigns or flags),
        "slug": organization.slug,
        "item": item,
        "matches": matches,
        "narrative": narrative,
        "campaigns": campaigns,
        "flags": flags,
    }
