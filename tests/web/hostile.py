"""Hostile addresses stored in every field that a page may turn into a link.

Shared by the render tests (tests/test_web_hardening.py) and the browser test
(tests/browser/test_hostile_urls.py). The rows are written with the ORM, as a connector, an
import or an older version without validation would have left them.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from django.urls import reverse
from django.utils import timezone

from beffroi.connectors.values import web_address as http_url
from tests.web.factories import make_author, make_item

#: Scripts in the forms browsers would run: any case, leading blanks and control characters,
#: tabs and newlines inside the scheme, HTML entities, and the other script-carrying schemes.
#: Each one sets ``window.__xss`` (the browser test's witness) and opens a dialog.
HOSTILE_URLS = (
    "javascript:window.__xss=1;alert(1)",
    "JaVaScRiPt:window.__xss=1;alert(1)",
    "  javascript:window.__xss=1;alert(1)",
    "\x01javascript:window.__xss=1;alert(1)",
    "java\tscript:window.__xss=1;alert(1)",
    "java\nscript:window.__xss=1;alert(1)",
    "&#106;avascript:window.__xss=1;alert(1)",
    "javascript&colon;window.__xss=1;alert(1)",
    "javascript&#58;window.__xss=1;alert(1)",
    "javascript://ville.example/%0Awindow.__xss=1;alert(1)",
    "data:text/html,<script>opener.__xss=1;alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
)

#: Attributes whose value a browser follows or fetches.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "poster", "data", "hx-get", "hx-post", "xlink:href"}
)


def hostile(index: int) -> str:
    return HOSTILE_URLS[index % len(HOSTILE_URLS)]


def store_hostile_urls(org: Any, source: Any) -> list[str]:
    """Store hostile addresses everywhere; return the pages that show them."""
    from beffroi.sources.models import Source
    from beffroi.veille.models import (
        Alert,
        AlertChannel,
        Campaign,
        CheckedClaim,
        ClaimMatch,
        ImpersonationFlag,
        Narrative,
        NarrativeItem,
        ProtectedIdentity,
        Watch,
        WatchHit,
    )

    now = timezone.now()
    author = make_author(org, "mairie_officielle", display_name="Mairie de Test", url=hostile(0))
    item = make_item(
        source,
        author,
        "hostile-1",
        kind="post",
        text="La mairie ferme la piscine ?",
        url=hostile(1),
        urls=["https://ville.example/piscine", *HOSTILE_URLS],
        media=[{"kind": "image", "url": address, "description": ""} for address in HOSTILE_URLS[:4]]
        + [{"kind": "video", "url": hostile(4), "description": "la vidéo"}],
    )
    claims = [
        CheckedClaim.objects.create(
            organization=org,
            key=f"hostile-claim-{index}",
            statement=f"La piscine ferme {index}",
            verdict="Faux",
            url=address,
            source="" if index % 2 else "Vérif'",
            origin=CheckedClaim.Origin.IMPORTED,
        )
        for index, address in enumerate(HOSTILE_URLS[:6])
    ]
    ClaimMatch.objects.create(organization=org, item=item, claim=claims[0], similarity=0.9)
    ClaimMatch.objects.create(organization=org, item=item, claim=claims[1], similarity=0.8)
    alert = Alert.objects.create(
        organization=org,
        kind=Alert.Kind.CLAIM,
        key="hostile-alert",
        title="Fausse information",
        started_at=now,
        context={"items": [item.pk], "claims": [c.pk for c in claims]},
    )
    identity = ProtectedIdentity.objects.create(organization=org, name="Mairie de Test")
    flag = ImpersonationFlag.objects.create(
        organization=org, identity=identity, author=author, score=0.9, evidence=["nom"]
    )
    campaign = Campaign.objects.create(
        organization=org,
        key="hostile-campaign",
        kind=Campaign.Kind.COLINK,
        shared=hostile(5),
        first_at=now - timedelta(hours=1),
        last_at=now,
        account_count=1,
        item_count=1,
    )
    campaign.items.add(item)
    campaign.authors.add(author)
    narrative = Narrative.objects.create(
        organization=org,
        key="hostile-narrative",
        keywords=[hostile(6)],
        item_count=1,
        first_seen=now,
        last_seen=now,
    )
    NarrativeItem.objects.create(narrative=narrative, item=item)
    watch = Watch.objects.create(organization=org, name="Piscine", query="piscine")
    WatchHit.objects.create(watch=watch, item=item)
    AlertChannel.objects.create(
        organization=org, kind=AlertChannel.Kind.WEBHOOK, name="Hook", target=hostile(7)
    )
    feed = Source.objects.create(
        organization=org, name="Flux", platform="rss", settings={"url": hostile(8)}
    )
    from beffroi.moderation.models import Case

    case = Case.objects.create(organization=org, item=item, reason="hostile addresses")
    slug = org.slug

    def veille(name: str, pk: int | None = None) -> str:
        return reverse(f"veille:{name}", args=[slug] if pk is None else [slug, pk])

    return [
        reverse("items:item", args=[slug, item.pk]),
        reverse("items:author", args=[slug, author.pk]),
        reverse("items:inbox", args=[slug]),
        reverse("moderation:case", args=[slug, case.pk]),
        veille("claims"),
        veille("claim_matches"),
        veille("claim_edit", claims[0].pk),
        veille("alert", alert.pk),
        veille("alerts"),
        veille("impersonators"),
        veille("impersonator", flag.pk),
        veille("campaign", campaign.pk),
        veille("campaigns"),
        veille("narrative", narrative.pk),
        veille("watch", watch.pk),
        veille("channels"),
        reverse("sources:list", args=[slug]),
        reverse("sources:edit", args=[slug, feed.pk]),
    ]


class _UrlAttributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.found.append((tag, name, value))


def unsafe_links(html: str) -> list[str]:
    """Every followed attribute that is neither relative to this site nor http(s)."""
    parser = _UrlAttributes()
    parser.feed(html)
    return [
        f"<{tag} {name}={value!r}>"
        for tag, name, value in parser.found
        if not (value == "" or value.startswith(("/", "?", "#")) or http_url(value))
    ]
