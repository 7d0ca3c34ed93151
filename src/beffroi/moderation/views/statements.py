"""DSA statements of reasons, JSON (the Transparency Database's bulk body) and CSV.

Each statement is checked before it is written (:mod:`beffroi.moderation.statements`); those
the database would refuse are left out and the export says so: a header on both formats
(``X-Statements-Left-Out``: how many; ``X-Statements-Left-Out-Decisions``: which), a
``left_out`` list after the statements in the JSON, and a message on the next page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from beffroi.core.exports import stream_csv
from beffroi.moderation.forms import StatementsForm
from beffroi.moderation.statements import (
    CSV_FIELDS,
    LeftOut,
    StatementsExport,
    csv_row,
    export_statements,
)
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability

#: Decisions named in the message and in the header (all are counted).
LISTED_LEFT_OUT = 20
HEADER_LEFT_OUT = 100


def _left_out_message(left_out: list[LeftOut]) -> str:
    lines = [
        _("Decision #%(id)s (%(puid)s): %(problems)s")
        % {"id": entry.decision_id, "puid": entry.puid, "problems": " ".join(entry.problems)}
        for entry in left_out[:LISTED_LEFT_OUT]
    ]
    if len(left_out) > LISTED_LEFT_OUT:
        lines.append(_("and %(count)s more.") % {"count": len(left_out) - LISTED_LEFT_OUT})
    heading = ngettext(
        "%(count)s statement of reasons was left out of the export: the Transparency "
        "Database would refuse it.",
        "%(count)s statements of reasons were left out of the export: the Transparency "
        "Database would refuse them.",
        len(left_out),
    ) % {"count": len(left_out)}
    return " ".join([heading, *lines])


def _export(request: OrgRequest, fmt: str) -> StatementsExport | None:
    """The checked export of the dates asked for (None when they are not dates)."""
    form = StatementsForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return None
    data = form.cleaned_data if form.is_bound else {}
    export = export_statements(
        request.org.actor,
        request.org.organization,
        fmt,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    if export.left_out:
        messages.warning(request, _left_out_message(export.left_out))
    if export.not_in_effect:
        messages.info(
            request,
            ngettext(
                "%(count)s restriction has no statement of reasons: it did not take effect on "
                "the platform (refused, still waiting, or not supported).",
                "%(count)s restrictions have no statement of reasons: they did not take effect "
                "on the platform (refused, still waiting, or not supported).",
                export.not_in_effect,
            )
            % {"count": export.not_in_effect},
        )
    return export


def _say_left_out(response: HttpResponseBase, export: StatementsExport) -> None:
    response["X-Statements-Left-Out"] = str(len(export.left_out))
    response["X-Statements-Not-In-Effect"] = str(export.not_in_effect)
    if export.left_out:
        response["X-Statements-Left-Out-Decisions"] = " ".join(
            str(entry.decision_id) for entry in export.left_out[:HEADER_LEFT_OUT]
        )


def _bad_dates() -> HttpResponse:
    return HttpResponseBadRequest(
        _("Give the dates as YYYY-MM-DD, the start before the end."),
        content_type="text/plain; charset=utf-8",
    )


@org_view(Capability.MODERATE)
def statements_json(request: OrgRequest) -> HttpResponseBase:
    """Statements of reasons as the Transparency Database's bulk body: ``{"statements": []}``."""
    export = _export(request, "json")
    if export is None:
        return _bad_dates()

    def chunks(checked: StatementsExport) -> Iterator[str]:
        yield '{"statements": ['
        for index, body in enumerate(checked.bodies()):
            yield ("," if index else "") + "\n" + json.dumps(body, ensure_ascii=False)
        yield "\n]"
        if checked.left_out:
            # Not part of the database's body (it reads ``statements``): what was left out.
            left_out: list[dict[str, Any]] = [entry.as_dict() for entry in checked.left_out]
            yield ',\n"left_out": ' + json.dumps(left_out, ensure_ascii=False)
        yield "}\n"

    response = StreamingHttpResponse(chunks(export), content_type="application/json")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    slug = request.org.organization.slug
    response["Content-Disposition"] = f'attachment; filename="statements-{slug}-{stamp}.json"'
    _say_left_out(response, export)
    return response


@org_view(Capability.MODERATE)
def statements_csv(request: OrgRequest) -> HttpResponseBase:
    export = _export(request, "csv")
    if export is None:
        return _bad_dates()
    response = stream_csv(
        list(CSV_FIELDS),
        (csv_row(body) for body in export.bodies()),
        f"statements-{request.org.organization.slug}",
        request=request,
    )
    _say_left_out(response, export)
    return response
