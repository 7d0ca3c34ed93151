"""What needs a person today, shown first on the dashboard.

Each line is a count with the page that lists what it counts: citizens waiting for an answer,
open alerts, the checked claims
being repeated (a hoax spreading), campaigns and impersonators to look at, the review queue,
the appeals and escalations waiting. A line is built only for a role that may open its page,
so nobody is shown a count they cannot follow. Each line is one query, scoped to the
organization.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from beffroi.conversations.models import Conversation
from beffroi.moderation.models import Case
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability
from beffroi.veille.models import Alert, Campaign, ClaimMatch, ImpersonationFlag

#: The period the spreading of checked claims is counted over (the hoax of the demo town
#: spread over a week: a day would miss a rumour that spreads overnight).
SPREAD_DAYS = 7
#: Claims named under the line of the spreading hoax.
SPREAD_CLAIMS = 3
CLAIM_CHARS = 120


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Need:
    """One line: ``count`` things at ``url``, with a sentence saying more."""

    key: str
    label: str
    count: int
    url: str
    note: str
    links: list[Link] = field(default_factory=list)

    @property
    def pressing(self) -> bool:
        return self.count > 0


def _url(name: str, org: OrgContext, **query: str) -> str:
    url = reverse(name, kwargs={"org_slug": org.organization.slug})
    return f"{url}?{urlencode(query)}" if query else url


def open_alerts(org: OrgContext, now: datetime) -> Need:
    # An alert grouped into another is one of its triggers, not an alert of its own.
    figures = org.scoped(Alert).filter(acknowledged_at__isnull=True, grouped_into=None)
    counts = figures.aggregate(
        open=Count("id"), new=Count("id", filter=Q(started_at__gt=now - timedelta(days=1)))
    )
    new = counts["new"]
    return Need(
        key="alerts",
        label=_("Open alerts"),
        count=counts["open"],
        url=_url("veille:alerts", org, open="1"),
        note=ngettext(
            "%(count)s started in the last 24 hours",
            "%(count)s started in the last 24 hours",
            new,
        )
        % {"count": new},
    )


def spreading_claims(org: OrgContext, now: datetime) -> Need:
    """Items repeating a checked claim, by the time they were posted: the period and the one
    before, and the claims repeated most in the period."""
    period = timedelta(days=SPREAD_DAYS)
    rows = list(
        org.scoped(ClaimMatch)
        .filter(item__created_at__gt=now - 2 * period)
        .values("claim_id", "claim__statement", "claim__verdict")
        .annotate(
            current=Count("item", distinct=True, filter=Q(item__created_at__gt=now - period)),
            previous=Count("item", distinct=True, filter=Q(item__created_at__lte=now - period)),
        )
        .order_by("-current", "claim_id")
    )
    # An item repeating two claims counts once per claim: the sums are of repetitions.
    current = sum(row["current"] for row in rows)
    previous = sum(row["previous"] for row in rows)
    if current > previous:
        note = _("up from %(previous)s the %(days)s days before") % {
            "previous": previous,
            "days": SPREAD_DAYS,
        }
    elif current < previous:
        note = _("down from %(previous)s the %(days)s days before") % {
            "previous": previous,
            "days": SPREAD_DAYS,
        }
    else:
        note = _("as many as the %(days)s days before") % {"days": SPREAD_DAYS}
    links = [
        Link(
            _("%(verdict)s: %(claim)s (%(count)s)")
            % {
                "verdict": row["claim__verdict"] or _("checked"),
                "claim": Truncator(row["claim__statement"]).chars(CLAIM_CHARS),
                "count": row["current"],
            },
            _url("veille:claim_matches", org, claim=str(row["claim_id"])),
        )
        for row in rows[:SPREAD_CLAIMS]
        if row["current"]
    ]
    return Need(
        key="claims",
        label=ngettext(
            "Repeats of a checked claim, last %(days)s day",
            "Repeats of a checked claim, last %(days)s days",
            SPREAD_DAYS,
        )
        % {"days": SPREAD_DAYS},
        count=current,
        url=_url("veille:claim_matches", org),
        note=note,
        links=links,
    )


def open_campaigns(org: OrgContext) -> Need:
    count = org.scoped(Campaign).filter(status=Campaign.Status.OPEN).count()
    return Need(
        key="campaigns",
        label=_("Campaigns to look at"),
        count=count,
        url=_url("veille:campaigns", org, status=Campaign.Status.OPEN),
        note=_("coordinated accounts nobody has reviewed"),
    )


def open_impersonators(org: OrgContext) -> Need:
    count = org.scoped(ImpersonationFlag).filter(status=ImpersonationFlag.Status.OPEN).count()
    return Need(
        key="impersonators",
        label=_("Possible impersonators"),
        count=count,
        url=_url("veille:impersonators", org, status=ImpersonationFlag.Status.OPEN),
        note=_("accounts imitating a protected identity"),
    )


def waiting_cases(org: OrgContext) -> list[Need]:
    """The review queue, and the requests waiting: authors' appeals, escalated cases."""
    by_kind = dict(
        org.scoped(Case)
        .exclude(state=Case.State.CLOSED)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    reviews = by_kind.get(Case.Kind.REVIEW, 0)
    appeals = by_kind.get(Case.Kind.APPEAL, 0)
    escalations = by_kind.get(Case.Kind.ESCALATION, 0)
    return [
        Need(
            key="queue",
            label=_("Review queue"),
            count=reviews,
            url=_url("moderation:queue", org, kind=Case.Kind.REVIEW),
            note=_("items waiting for a decision"),
        ),
        Need(
            key="requests",
            label=_("Requests waiting"),
            count=appeals + escalations,
            url=_url("moderation:queue", org),
            note=_("appeals from authors and escalated cases"),
            links=[
                Link(
                    ngettext("%(count)s appeal", "%(count)s appeals", appeals) % {"count": appeals},
                    _url("moderation:queue", org, kind=Case.Kind.APPEAL),
                ),
                Link(
                    ngettext("%(count)s escalation", "%(count)s escalations", escalations)
                    % {"count": escalations},
                    _url("moderation:queue", org, kind=Case.Kind.ESCALATION),
                ),
            ],
        ),
    ]


def waiting_requests(org: OrgContext, now: datetime) -> Need:
    """Citizens waiting for an answer: the conversations to handle, and how many of those
    assigned to the reader (or nobody) are past their response time."""
    from beffroi.conversations import services as desk

    user = org.membership.user if org.membership is not None else None
    to_handle = org.scoped(Conversation).filter(desk.view_filter("open", user, now))
    # The breaching view's own filter (an indexed deadline column): the count is what the
    # link shows.
    breached = org.scoped(Conversation).filter(desk.view_filter("breaching", user, now)).count()
    return Need(
        key="conversations",
        label=_("Citizens waiting for an answer"),
        count=to_handle.count(),
        url=_url("conversations:list", org),
        note=ngettext(
            "%(count)s past its response time",
            "%(count)s past their response time",
            breached,
        )
        % {"count": breached},
        links=[
            Link(_("Past their response time"), _url("conversations:list", org, view="breaching"))
        ]
        if breached
        else [],
    )


def needs(org: OrgContext, now: datetime | None = None) -> list[Need]:
    """The lines the member of ``org`` may follow, in the order of the day's work."""
    now = now or timezone.now()
    found: list[Need] = []
    if org.can(Capability.VIEW):  # the alerts and conversations pages are open to every member
        found.append(waiting_requests(org, now))
        found.append(open_alerts(org, now))
    if org.can(Capability.READ_VEILLE):
        found += [spreading_claims(org, now), open_campaigns(org), open_impersonators(org)]
    if org.can(Capability.MODERATE):
        found += waiting_cases(org)
    return found
