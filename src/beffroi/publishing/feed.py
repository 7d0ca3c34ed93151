"""The calendar feed: the organization's scheduled and published posts and its periods
without publishing, as an iCalendar file that a calendar application subscribes to.

The address carries a signed token instead of a login (calendar applications have none):
``{"org": id, "v": calendar_feed_version}``. Raising the version (:func:`rotate_calendar_feed`)
revokes every address given out. The feed says when and what (the internal title and the
state), never the text of a post, nor who wrote or approved it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.organizations.models import Organization
from beffroi.publishing import pausing
from beffroi.publishing.calendar import local_midnight, local_zone
from beffroi.publishing.models import Post, PublishingSettings
from beffroi.publishing.services import settings_of

SALT = "beffroi.publishing.calendar"
#: What the feed covers, around the moment it is read.
PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
#: A post is an instant; calendars show it as a short event.
POST_DURATION = timedelta(minutes=15)
#: The states a subscriber sees: what will go out, and what went out.
SHOWN = (Post.State.SCHEDULED, Post.State.PUBLISHED)


def feed_token(organization: Organization) -> str:
    version = settings_of(organization).calendar_feed_version
    # Signed without a time: the address stays the same until regenerated (revocation is
    # by version), so a calendar's subscription does not change under it.
    return signing.Signer(salt=SALT).sign_object({"org": organization.pk, "v": version})


def feed_url(organization: Organization) -> str:
    """The address to subscribe to (``BEFFROI_PUBLIC_URL``: calendar applications read it
    from outside)."""
    path = reverse("publishing_public:calendar_feed", args=[feed_token(organization)])
    return f"{settings.BEFFROI_PUBLIC_URL}{path}"


def organization_of_token(token: str) -> Organization | None:
    """The organization whose current feed address carries ``token``; None when the token is
    forged or of an address since regenerated."""
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    organization_id, version = (
        (value.get("org"), value.get("v")) if isinstance(value, dict) else (None, None)
    )
    if not isinstance(organization_id, int) or not isinstance(version, int):
        return None
    found = (
        PublishingSettings.objects.filter(
            organization_id=organization_id, calendar_feed_version=version
        )
        .select_related("organization")
        .first()
    )
    return found.organization if found is not None else None


def rotate_calendar_feed(actor: Actor, organization: Organization) -> PublishingSettings:
    """A new feed address: the one given out before stops working."""
    with transaction.atomic():
        current = PublishingSettings.objects.select_for_update().get(
            pk=settings_of(organization).pk
        )
        before = current.calendar_feed_version
        current.calendar_feed_version = F("calendar_feed_version") + 1
        current.save(update_fields=["calendar_feed_version"])
        current.refresh_from_db(fields=["calendar_feed_version"])
        record(
            actor,
            AuditAction.PUBLISHING_SETTINGS,
            organization=organization,
            obj=current,
            before={"calendar_feed_version": before},
            after={"calendar_feed_version": current.calendar_feed_version},
        )
    return current


def _host() -> str:
    return urlsplit(settings.BEFFROI_PUBLIC_URL).hostname or "beffroi"


def calendar_ics(organization: Organization, now: datetime) -> bytes:
    """The feed's iCalendar file: a post is a 15-minute event at its time (in UTC), a period
    without publishing an all-day event when it runs from midnight to midnight (local time),
    a timed one otherwise."""
    host = _host()
    stamp = now.astimezone(UTC)
    feed = icalendar.Calendar()
    feed.add("prodid", "-//Beffroi//Publishing calendar//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", _("%(name)s: publications") % {"name": organization.name})
    posts = (
        Post.objects.for_org(organization)
        .filter(state__in=SHOWN)
        .annotate(moment=Coalesce("published_at", "scheduled_at"))
        .filter(moment__gte=now - PAST, moment__lt=now + AHEAD)
        .only("id", "title", "state", "scheduled_at", "published_at")
        .order_by("moment", "id")
    )
    for post in posts:
        start = (post.published_at or post.scheduled_at or now).astimezone(UTC)
        event = icalendar.Event()
        event.add("uid", f"post-{post.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + POST_DURATION)
        event.add("summary", f"{post.title} ({post.get_state_display()})")
        feed.add_component(event)
    zone = local_zone(organization)
    for window in pausing.windows_overlapping(organization.pk, now - PAST, now + AHEAD):
        event = icalendar.Event()
        event.add("uid", f"window-{window.pk}@{host}")
        event.add("dtstamp", stamp)
        first, last = window.starts_at.astimezone(zone), window.ends_at.astimezone(zone)
        if first == local_midnight(first.date(), zone) and last == local_midnight(
            last.date(), zone
        ):
            event.add("dtstart", first.date())
            event.add("dtend", last.date())  # exclusive, as iCalendar's all-day end is
        else:
            event.add("dtstart", window.starts_at.astimezone(UTC))
            event.add("dtend", window.ends_at.astimezone(UTC))
        event.add("summary", _("%(name)s: nothing is published") % {"name": window.name})
        event.add("transp", "TRANSPARENT")
        feed.add_component(event)
    return bytes(feed.to_ical())
