"""Did it work? The answers given with the library and what followed them, per strategy and
one by one (with their CSV), and the library's gaps: the narratives and checked claims of the
veille that no suggested entry answers.

Reading only, for every member: the figures come from :mod:`beffroi.counterspeech.outcomes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from beffroi.core.exports import stream_csv
from beffroi.counterspeech import outcomes as measures
from beffroi.counterspeech.outcomes import Outcome, Trend
from beffroi.counterspeech.services import is_own
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

#: The periods offered, in days; the first is the default.
PERIODS = (30, 90)

CSV_HEADER = [
    "answered_at",
    "item_id",
    "platform",
    "item_url",
    "entry_id",
    "entry",
    "strategy",
    "removed",
    "hateful_status",
    "hateful_before",
    "hateful_after",
    "replies_before",
    "replies_after",
    "hateful_before_per_hour",
    "hateful_after_per_hour",
    "spread_status",
    "spread_before",
    "spread_after",
    "spread_before_per_hour",
    "spread_after_per_hour",
    "claims",
    "narrative_id",
    "window_hours",
]


def period_of(request: OrgRequest) -> int:
    """The days asked for (``?days=``), one of :data:`PERIODS`."""
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        return PERIODS[0]
    return days if days in PERIODS else PERIODS[0]


def _rounded(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _trend_cells(trend: Trend) -> list[Any]:
    """Status, counts before and after (so far, when too early), then the rates per hour.
    The change is left to the spreadsheet: a negative number would be defused as a formula
    (``core.exports``) and read as text."""
    before, after = trend.before, trend.after
    return [
        trend.status.value,
        before.count if before else "",
        after.count if after else "",
        _rounded(before.per_hour if before else None),
        _rounded(after.per_hour if after else None),
    ]


def _csv_rows(found: list[Outcome]) -> Iterator[list[Any]]:
    window = measures.WINDOW.total_seconds() / 3600
    for outcome in found:
        item, entry = outcome.item, outcome.entry
        hateful = _trend_cells(outcome.hateful_replies)
        before, after = outcome.hateful_replies.before, outcome.hateful_replies.after
        yield [
            outcome.answered_at,
            item.pk,
            item.platform,
            item.url,
            entry.pk if entry else "",
            entry.title if entry else "",
            outcome.strategy,
            outcome.removal.value,
            *hateful[:3],
            before.of if before else "",
            after.of if after else "",
            *hateful[3:],
            *_trend_cells(outcome.spread),
            " ".join(str(claim.pk) for claim in outcome.claims),
            outcome.narrative.pk if outcome.narrative else "",
            f"{window:g}",
        ]


@org_view(Capability.VIEW)
def outcomes(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    organization = request.org.organization
    days = period_of(request)
    since = timezone.now() - timedelta(days=days)
    found = measures.outcomes_for_items(organization, measures.answers_of(organization, since))
    if request.GET.get("format") == "csv":
        return stream_csv(CSV_HEADER, _csv_rows(found), "counter-speech-outcomes", request=request)
    rows = [
        {"outcome": outcome, "own_entry": outcome.entry and is_own(organization, outcome.entry)}
        for outcome in found
    ]
    return render(
        request,
        "counterspeech/outcomes.html",
        {
            "nav": "counterspeech",
            "days": days,
            "periods": PERIODS,
            "window_hours": int(measures.WINDOW.total_seconds() // 3600),
            "summaries": measures.by_strategy(found),
            "overall": measures.overall(found),
            "rows": rows,
            "capped": len(found) >= measures.MAX_ANSWERS,
            "max_answers": measures.MAX_ANSWERS,
        },
    )


@org_view(Capability.VIEW)
def gaps(request: OrgRequest) -> HttpResponse:
    organization = request.org.organization
    days = period_of(request)
    since = timezone.now() - timedelta(days=days)
    return render(
        request,
        "counterspeech/gaps.html",
        {
            "nav": "counterspeech",
            "days": days,
            "periods": PERIODS,
            "narratives": measures.narrative_gaps(organization, since),
            "claims": measures.claim_gaps(organization, since),
            "max_gaps": measures.MAX_GAPS,
            "can_write": request.org.can(Capability.ANSWER),
            # The veille's own pages are for those who read it.
            "can_read_veille": request.org.can(Capability.READ_VEILLE),
        },
    )
