"""The response-time report: first response and resolution, overall and by team, platform and
week, in business hours; a chart of the week's conversations with its table; CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from beffroi.conversations import report as reports
from beffroi.core.charts import bar_chart, legend
from beffroi.core.exports import stream_csv
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def _csv_rows(found: reports.Report) -> Any:
    groups: list[tuple[str, str | None, str, reports.Figures]] = [
        ("overall", None, _("All"), found.overall)
    ]
    groups += [("team", row.key, row.label, row.figures) for row in found.by_team]
    groups += [("platform", row.key, row.label, row.figures) for row in found.by_platform]
    groups += [("week", row.key, row.label, row.figures) for row in found.by_week]
    for group, key, label, figures in groups:
        first, resolution = figures.first_response, figures.resolution
        yield [
            group,
            key or "",
            label,
            figures.count,
            first.done,
            _hours(first.median),
            _hours(first.p90),
            first.share_within_target,
            resolution.done,
            _hours(resolution.median),
            _hours(resolution.p90),
            resolution.share_within_target,
        ]


@org_view(Capability.VIEW)
def response_times(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    since, until = _day(request.GET.get("since", "")), _day(request.GET.get("until", ""))
    if since and until and since > until:
        since, until = until, since
    found = reports.response_time_report(request.org.organization, since, until)
    if request.GET.get("format") == "csv":
        return stream_csv(
            [
                "group",
                "key",
                "label",
                "conversations",
                "answered",
                "first_response_median_hours",
                "first_response_p90_hours",
                "first_response_share_within_target",
                "resolved",
                "resolution_median_hours",
                "resolution_p90_hours",
                "resolution_share_within_target",
            ],
            _csv_rows(found),
            "response-times",
            request=request,
        )
    weeks = [row.label for row in found.by_week]
    series = {
        _("Answered"): [row.figures.answered for row in found.by_week],
        _("Not answered yet"): [row.figures.count - row.figures.answered for row in found.by_week],
    }
    chart_title = _("Conversations opened each week")
    return render(
        request,
        "conversations/response_times.html",
        {
            "nav": "conversations",
            "report": found,
            "chart_title": chart_title,
            "chart": bar_chart(
                series,
                weeks,
                title=chart_title,
                description=_("Conversations opened each week, answered or not yet."),
                id_prefix="weeks",
                value_label=_("conversations"),
            )
            if weeks
            else None,
            "chart_legend": legend(series, id_prefix="weeks-legend") if weeks else None,
            "groups": [
                (_("By team"), found.by_team),
                (_("By network"), found.by_platform),
                (_("By week"), found.by_week),
            ],
        },
    )
