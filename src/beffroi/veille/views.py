"""Veille pages of an organization, under ``/o/<slug>/veille/``.

Reading the dashboard and the alerts needs the ``view`` capability (an elected official
follows them); watches, narratives, claims, campaigns and identities need ``analyze``;
alert channels need ``manage``. Every list has its CSV export.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.analysis.claims.library import (
    LibraryImportError,
    NestingTooDeep,
    claims_from_csv,
    claims_from_html,
    claims_from_json,
)
from beffroi.audit.services import Actor, record, snapshot
from beffroi.core.exports import stream_csv
from beffroi.core.uploads import too_large_response, upload_too_large
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.roles import Capability, role_allows
from beffroi.veille import claims as claim_services
from beffroi.veille import identities, narrating, services, watching
from beffroi.veille.charts import daily_chart, days_back, network_svg
from beffroi.veille.forms import (
    MAX_UPLOAD_BYTES,
    ChannelForm,
    ClaimForm,
    IdentityForm,
    LibraryImportForm,
    NarrativeMergeForm,
    NarrativeNameForm,
    NarrativeSplitForm,
)
from beffroi.veille.models import (
    Alert,
    AlertChannel,
    Campaign,
    CheckedClaim,
    ClaimMatch,
    ImpersonationFlag,
    Narrative,
    ProtectedIdentity,
    Watch,
)

PAGE_SIZE = 50
CHART_DAYS = 30


def _org(request: HttpRequest) -> Any:
    return request.organization  # type: ignore[attr-defined]


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, "ui")


def _can(request: HttpRequest, capability: Capability) -> bool:
    return role_allows(request.membership.role, capability)  # type: ignore[attr-defined]


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(
        request,
        f"veille/{template}",
        {"nav": "veille", "can_analyze": _can(request, Capability.ANALYZE), **context},
    )


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _items_csv(request: HttpRequest, items: Iterable[Item], filename: str) -> HttpResponse:
    return stream_csv(
        ["created_at", "platform", "author", "language", "text", "url", "item_id"],
        (
            [i.created_at, i.platform, i.author.handle, i.language, i.text, i.url, i.pk]
            for i in items
        ),
        filename,
        request=request,
    )


# --- dashboard ---------------------------------------------------------------------------


@org_view(Capability.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Volume per watch and per narrative, the latest alerts, campaigns and impersonators,
    the most active accounts and domains."""
    organization = _org(request)
    days = days_back(CHART_DAYS)
    since = timezone.now() - timedelta(days=CHART_DAYS)
    watches = Watch.objects.filter(organization=organization, enabled=True)
    watch_moments = {
        watch.name: list(
            Item.objects.filter(watch_hits__watch=watch, created_at__gte=since).values_list(
                "created_at", flat=True
            )
        )
        for watch in watches
    }
    narratives = list(
        Narrative.objects.filter(
            organization=organization, status=Narrative.Status.ACTIVE, last_seen__gte=since
        ).order_by("-item_count")[:12]
    )
    narrative_moments = {
        narrative.label: list(
            Item.objects.filter(
                narrative_link__narrative=narrative, created_at__gte=since
            ).values_list("created_at", flat=True)
        )
        for narrative in narratives
    }
    recent = Item.objects.filter(organization=organization, created_at__gte=since)
    accounts = (
        recent.values("author__handle", "author_id")
        .annotate(count=Count("id"))
        .order_by("-count")[:10]
    )
    domains: Counter[str] = Counter()
    from beffroi.veille.alerting import domain_of

    for urls in recent.values_list("urls", flat=True).iterator(chunk_size=2000):
        domains.update({domain_of(str(u)) for u in urls if isinstance(u, str)} - {""})
    context = {
        "watch_chart": daily_chart(
            watch_moments,
            days,
            title=_("Items per day and watch, last %(days)s days") % {"days": CHART_DAYS},
            description=_("Items matched by each watch, per day."),
            id_prefix="watch-chart",
            others_label=_("Other watches"),
            value_label=_("items"),
        ),
        "narrative_chart": daily_chart(
            narrative_moments,
            days,
            title=_("Items per day and narrative, last %(days)s days") % {"days": CHART_DAYS},
            description=_("How the largest narratives rise and fall."),
            id_prefix="narrative-chart",
            others_label=_("Other narratives"),
            value_label=_("items"),
        ),
        "chart_days": CHART_DAYS,
        "alerts": Alert.objects.filter(organization=organization)[:8],
        "open_alerts": Alert.objects.filter(
            organization=organization, acknowledged_at__isnull=True
        ).count(),
        "campaigns": Campaign.objects.filter(organization=organization).exclude(
            status=Campaign.Status.DISMISSED
        )[:5],
        "flags": ImpersonationFlag.objects.filter(
            organization=organization, status=ImpersonationFlag.Status.OPEN
        ).select_related("author", "identity")[:5],
        "narratives": narratives[:6],
        "accounts": accounts,
        "domains": domains.most_common(10),
        "watch_count": watches.count(),
    }
    return _render(request, "dashboard.html", context)


@org_view(Capability.ANALYZE)
@require_POST
def scan_now(request: HttpRequest) -> HttpResponse:
    from beffroi.veille.queue import request_scan

    request_scan(_org(request))
    messages.success(request, _("The veille will look at the latest items in a moment."))
    return redirect("veille:dashboard", org_slug=_org(request).slug)


# --- alerts ------------------------------------------------------------------------------


def _alerts(request: HttpRequest) -> Any:
    alerts = Alert.objects.filter(organization=_org(request))
    kind = request.GET.get("kind", "")
    if kind in Alert.Kind.values:
        alerts = alerts.filter(kind=kind)
    if request.GET.get("open"):
        alerts = alerts.filter(acknowledged_at__isnull=True)
    return alerts


@org_view(Capability.VIEW)
def alerts(request: HttpRequest) -> HttpResponse:
    found = _alerts(request)
    if _wants_csv(request):
        return stream_csv(
            [
                "started_at",
                "kind",
                "title",
                "series",
                "observed",
                "expected",
                "score",
                "acknowledged_at",
                "id",
            ],
            (
                [
                    a.started_at,
                    a.kind,
                    a.title,
                    a.series,
                    a.observed,
                    a.expected,
                    a.score,
                    a.acknowledged_at,
                    a.pk,
                ]
                for a in found.iterator()
            ),
            "alerts",
            request=request,
        )
    return _render(
        request,
        "alerts.html",
        {
            "page_obj": _page(request, found),
            "kinds": Alert.Kind.choices,
            "kind": request.GET.get("kind", ""),
        },
    )


@org_view(Capability.VIEW)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, organization=_org(request), pk=pk)
    context = alert.context or {}
    items = Item.objects.filter(
        organization=_org(request), pk__in=context.get("items", [])
    ).select_related("author")
    return _render(
        request,
        "alert.html",
        {
            "alert": alert,
            "items": items.order_by("created_at"),
            "accounts": context.get("accounts", []),
            "narratives": Narrative.objects.filter(
                organization=_org(request), pk__in=context.get("narratives", [])
            ),
            "claims": CheckedClaim.objects.filter(
                organization=_org(request), pk__in=context.get("claims", [])
            ),
            "campaign": Campaign.objects.filter(
                organization=_org(request), pk=context.get("campaign") or 0
            ).first(),
            "flag": ImpersonationFlag.objects.filter(
                organization=_org(request), pk=context.get("flag") or 0
            ).first(),
            "deliveries": alert.deliveries.select_related("channel"),
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, organization=_org(request), pk=pk)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = request.user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record(_actor(request), "alert.acknowledge", organization=_org(request), obj=alert)
    return redirect("veille:alerts", org_slug=_org(request).slug)


# --- alert channels ----------------------------------------------------------------------


def _delete(request: HttpRequest, model: Any, pk: int, event: str, back: str) -> HttpResponse:
    """Delete one object of the organization, with its audit event, and go back to the list."""
    obj = get_object_or_404(model, organization=_org(request), pk=pk)
    record(_actor(request), event, organization=_org(request), obj=obj, before=snapshot(obj))
    obj.delete()
    return redirect(back, org_slug=_org(request).slug)


@org_view(Capability.MANAGE)
def channels(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "channels.html",
        {"channels": AlertChannel.objects.filter(organization=_org(request))},
    )


def _edit(
    request: HttpRequest,
    form: Any,
    template: str,
    event: str,
    on_saved: Any = None,
    extra: dict[str, Any] | None = None,
) -> Any:
    """Validate and save a model form of the organization, with its audit event; returns the
    saved object, or the page to show again."""
    before = snapshot(form.instance) if form.instance.pk else None
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.organization = _org(request)
        obj.save()
        if on_saved is not None:
            on_saved(obj)
        record(
            _actor(request),
            event,
            organization=_org(request),
            obj=obj,
            before=before,
            after=snapshot(obj),
        )
        return obj
    return _render(request, template, {"form": form, "object": form.instance, **(extra or {})})


def _form_page(request: HttpRequest, obj: Any, noun: str, back: str, tab: str) -> dict[str, Any]:
    from django.urls import reverse

    title = (
        _("Edit: %(name)s") % {"name": obj}
        if obj is not None and obj.pk
        else _("New: %(what)s") % {"what": noun}
    )
    return {
        "form_title": title,
        "cancel_url": reverse(back, kwargs={"org_slug": _org(request).slug}),
        "tab": tab,
    }


@org_view(Capability.MANAGE)
def channel_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    channel = (
        get_object_or_404(AlertChannel, organization=_org(request), pk=pk)
        if pk
        else AlertChannel(organization=_org(request))
    )
    form = ChannelForm(request.POST or None, instance=channel, initial={"kinds": channel.kinds})
    result = _edit(
        request,
        form,
        "channel_form.html",
        "alert_channel.save",
        extra=_form_page(request, channel, _("Alert channel"), "veille:channels", "channels"),
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, _("The channel “%(name)s” is saved.") % {"name": result.name})
    return redirect("veille:channels", org_slug=_org(request).slug)


@org_view(Capability.MANAGE)
@require_POST
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(request, AlertChannel, pk, "alert_channel.delete", "veille:channels")


@org_view(Capability.MANAGE)
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a test message now, and say what the channel answered."""
    from beffroi.notify.delivery import DeliveryError
    from beffroi.veille.delivery import send
    from beffroi.veille.models import AlertDelivery

    channel = get_object_or_404(AlertChannel, organization=_org(request), pk=pk)
    alert = Alert(
        organization=_org(request),
        pk=0,
        kind=Alert.Kind.SPIKE,
        title=_("Test message"),
        started_at=timezone.now(),
    )
    try:
        send(AlertDelivery(alert=alert, channel=channel, pk=0))
    except DeliveryError as error:
        messages.error(request, _("The channel refused the test: %(error)s") % {"error": error})
    else:
        messages.success(request, _("The test message was sent."))
    return redirect("veille:channels", org_slug=_org(request).slug)


# --- watches -----------------------------------------------------------------------------


@org_view(Capability.ANALYZE)
def watches(request: HttpRequest) -> HttpResponse:
    found = (
        Watch.objects.filter(organization=_org(request))
        .annotate(hit_count=Count("hits"))
        .order_by("name")
    )
    if _wants_csv(request):
        return stream_csv(
            [
                "name",
                "query",
                "languages",
                "accounts",
                "platforms",
                "sensitivity",
                "enabled",
                "hits",
            ],
            (
                [
                    w.name,
                    w.query,
                    w.languages,
                    w.accounts,
                    w.platforms,
                    w.sensitivity,
                    w.enabled,
                    w.hit_count,
                ]
                for w in found
            ),
            "watches",
            request=request,
        )
    return _render(request, "watches.html", {"watches": found})


@org_view(Capability.ANALYZE)
def watch_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    watch = get_object_or_404(Watch, organization=_org(request), pk=pk) if pk else None
    form = services.watch_form(_org(request), _actor(request), request.POST or None, watch)
    result = services.save_watch(_actor(request), form) if request.method == "POST" else None
    if result is None:
        page = _form_page(request, form.instance, _("Watch"), "veille:watches", "watches")
        return _render(request, "watch_form.html", {"form": form, "object": form.instance, **page})
    messages.success(
        request,
        _("The watch “%(name)s” is saved and has looked at every item.") % {"name": result.name},
    )
    return redirect("veille:watch", org_slug=_org(request).slug, pk=result.pk)


@org_view(Capability.ANALYZE)
@require_POST
def watch_delete(request: HttpRequest, pk: int) -> HttpResponse:
    response = _delete(request, Watch, pk, "watch.delete", "veille:watches")
    watching.sync_listening(_org(request))
    return response


@org_view(Capability.ANALYZE)
def watch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(Watch, organization=_org(request), pk=pk)
    items = (
        Item.objects.filter(watch_hits__watch=watch)
        .select_related("author")
        .order_by("-created_at")
    )
    if _wants_csv(request):
        return _items_csv(request, items.iterator(chunk_size=1000), f"watch-{watch.pk}")
    moments = list(items.values_list("created_at", flat=True))
    chart = daily_chart(
        {watch.name: moments},
        days_back(CHART_DAYS),
        title=_("Items per day matched by “%(name)s”") % {"name": watch.name},
        description=_("The watch's timeline over the last %(days)s days.") % {"days": CHART_DAYS},
        id_prefix="watch-timeline",
        others_label="",
        value_label=_("items"),
    )
    alerts_found = Alert.objects.filter(organization=_org(request), series=watch.series)[:10]
    return _render(
        request,
        "watch.html",
        {
            "watch": watch,
            "chart": chart,
            "chart_days": CHART_DAYS,
            "page_obj": _page(request, items),
            "alerts": alerts_found,
            "platform_search": _platform_search(watch),
        },
    )


def _platform_search(watch: Watch) -> str:
    from beffroi.analysis.watch_query import WatchQueryError

    try:
        parsed = watching.spec_of(watch).parsed
    except WatchQueryError:  # a query saved before a change of the language
        return ""
    return parsed.to_platform_search() if parsed is not None else ""


# --- narratives --------------------------------------------------------------------------


@org_view(Capability.ANALYZE)
def narratives(request: HttpRequest) -> HttpResponse:
    found = Narrative.objects.filter(organization=_org(request), status=Narrative.Status.ACTIVE)
    if _wants_csv(request):
        return stream_csv(
            ["id", "name", "keywords", "items", "first_seen", "last_seen"],
            ([n.pk, n.name, n.keywords, n.item_count, n.first_seen, n.last_seen] for n in found),
            "narratives",
            request=request,
        )
    return _render(
        request,
        "narratives.html",
        {"page_obj": _page(request, found), "growth": narrating.growth_of(found)},
    )


@org_view(Capability.ANALYZE)
def narrative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    narrative = get_object_or_404(Narrative, organization=_org(request), pk=pk)
    if narrative.status == Narrative.Status.MERGED and narrative.merged_into_id:
        return redirect(
            "veille:narrative", org_slug=_org(request).slug, pk=narrative.merged_into_id
        )
    items = (
        Item.objects.filter(narrative_link__narrative=narrative)
        .select_related("author")
        .order_by("created_at")
    )
    if _wants_csv(request):
        return _items_csv(request, items.iterator(chunk_size=1000), f"narrative-{narrative.pk}")
    representative = Item.objects.filter(
        organization=_org(request), pk__in=narrative.representative_ids
    ).select_related("author")
    chart = daily_chart(
        {narrative.label: list(items.values_list("created_at", flat=True))},
        days_back(CHART_DAYS),
        title=_("Items per day of this narrative"),
        description=_("How the narrative rose and fell over the last %(days)s days.")
        % {"days": CHART_DAYS},
        id_prefix="narrative-timeline",
        others_label="",
        value_label=_("items"),
    )
    others = Narrative.objects.filter(
        organization=_org(request), status=Narrative.Status.ACTIVE
    ).exclude(pk=narrative.pk)
    merge_form = NarrativeMergeForm()
    merge_form.fields["into"].widget.choices = [(n.pk, n.label) for n in others[:200]]
    split_form = NarrativeSplitForm()
    split_form.fields["items"].choices = [(i.pk, i.text[:120]) for i in items[:200]]
    return _render(
        request,
        "narrative.html",
        {
            "narrative": narrative,
            "representative": representative,
            "chart": chart,
            "items": items[:200],
            "name_form": NarrativeNameForm(initial={"name": narrative.name}),
            "merge_form": merge_form,
            "split_form": split_form,
            "languages": Counter(items.values_list("language", flat=True)).most_common(),
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def narrative_rename(request: HttpRequest, pk: int) -> HttpResponse:
    narrative = get_object_or_404(Narrative, organization=_org(request), pk=pk)
    form = NarrativeNameForm(request.POST)
    if form.is_valid():
        narrating.rename(narrative, form.cleaned_data["name"], _actor(request))
        messages.success(request, _("The narrative is renamed."))
    return redirect("veille:narrative", org_slug=_org(request).slug, pk=pk)


@org_view(Capability.ANALYZE)
@require_POST
def narrative_merge(request: HttpRequest, pk: int) -> HttpResponse:
    narrative = get_object_or_404(
        Narrative, organization=_org(request), pk=pk, status=Narrative.Status.ACTIVE
    )
    form = NarrativeMergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the narrative to merge into."))
        return redirect("veille:narrative", org_slug=_org(request).slug, pk=pk)
    target = get_object_or_404(
        Narrative,
        organization=_org(request),
        pk=form.cleaned_data["into"],
        status=Narrative.Status.ACTIVE,
    )
    if target.pk == narrative.pk:
        raise Http404("A narrative cannot be merged into itself.")
    narrating.merge(narrative, target, _actor(request))
    messages.success(request, _("The narratives are merged."))
    return redirect("veille:narrative", org_slug=_org(request).slug, pk=target.pk)


@org_view(Capability.ANALYZE)
@require_POST
def narrative_split(request: HttpRequest, pk: int) -> HttpResponse:
    narrative = get_object_or_404(
        Narrative, organization=_org(request), pk=pk, status=Narrative.Status.ACTIVE
    )
    form = NarrativeSplitForm(request.POST)
    form.fields["items"].choices = [
        (i, i) for i in narrative.members.values_list("item_id", flat=True)
    ]
    if not form.is_valid():
        messages.error(request, _("Tick the items that make the new narrative."))
        return redirect("veille:narrative", org_slug=_org(request).slug, pk=pk)
    try:
        created = narrating.split(
            narrative, form.cleaned_data["items"], form.cleaned_data["name"], _actor(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("veille:narrative", org_slug=_org(request).slug, pk=pk)
    messages.success(request, _("A new narrative is made of the ticked items."))
    return redirect("veille:narrative", org_slug=_org(request).slug, pk=created.pk)


# --- claims ------------------------------------------------------------------------------


@org_view(Capability.ANALYZE)
def claims(request: HttpRequest) -> HttpResponse:
    found = (
        CheckedClaim.objects.filter(organization=_org(request))
        .annotate(match_count=Count("matches"))
        .order_by("-created_at", "-id")
    )
    query = request.GET.get("q", "").strip()
    if query:
        found = found.filter(Q(statement__icontains=query) | Q(title__icontains=query))
    if _wants_csv(request):
        return stream_csv(
            [
                "claim",
                "verdict",
                "url",
                "source",
                "date",
                "language",
                "title",
                "reply",
                "origin",
                "matches",
            ],
            (
                [
                    c.statement,
                    c.verdict,
                    c.url,
                    c.source,
                    c.reviewed_on,
                    c.language,
                    c.title,
                    c.reply,
                    c.origin,
                    c.match_count,
                ]
                for c in found
            ),
            "claims",
            request=request,
        )
    return _render(request, "claims.html", {"page_obj": _page(request, found), "q": query})


@org_view(Capability.ANALYZE)
def claim_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A claim entered by hand; ``?item=<id>`` makes the organization's post a rebuttal."""
    organization = _org(request)
    claim = get_object_or_404(CheckedClaim, organization=organization, pk=pk) if pk else None
    item = None
    if claim is None and request.GET.get("item", "").isdigit():
        item = get_object_or_404(Item, organization=organization, pk=int(request.GET["item"]))
    if claim is None and item is not None:
        claim = claim_services.rebuttal_draft(item, request.user)
        claim.verdict = _("False")
    elif claim is None:
        claim = CheckedClaim(organization=organization, created_by=request.user)
    form = ClaimForm(request.POST or None, instance=claim)

    def keyed(obj: CheckedClaim) -> None:
        claim_services.library_changed(organization)

    if request.method == "POST" and form.is_valid():
        form.instance.key = claim_services.claim_key(
            form.cleaned_data["statement"],
            form.cleaned_data["url"] or (f"item:{item.pk}" if item else ""),
        )
        if (
            CheckedClaim.objects.filter(organization=organization, key=form.instance.key)
            .exclude(pk=claim.pk)
            .exists()
        ):
            form.add_error(
                "statement", _("This claim, checked at this address, is already in the library.")
            )
    result = _edit(
        request,
        form,
        "claim_form.html",
        "claim.save",
        on_saved=keyed,
        extra=_form_page(request, claim, _("Checked claim"), "veille:claims", "claims"),
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(request, _("The claim is in the library; items are matched against it."))
    return redirect("veille:claims", org_slug=organization.slug)


@org_view(Capability.ANALYZE)
@require_POST
def claim_delete(request: HttpRequest, pk: int) -> HttpResponse:
    response = _delete(request, CheckedClaim, pk, "claim.delete", "veille:claims")
    claim_services.library_changed(_org(request))
    return response


@org_view(Capability.ANALYZE)
def claims_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and upload_too_large(request, MAX_UPLOAD_BYTES):
        return too_large_response(request, MAX_UPLOAD_BYTES)
    form = LibraryImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["file"].read()
        try:
            text = raw.decode("utf-8-sig")
            fmt = form.file_format
            if fmt == "csv":
                parsed = claims_from_csv(text)
            elif fmt == "html":
                parsed = claims_from_html(text)
            else:
                parsed = claims_from_json(text)
        except UnicodeDecodeError:
            form.add_error("file", _("The file is not UTF-8 text."))
        except NestingTooDeep as error:
            form.add_error(
                "file",
                _(
                    "The file is nested more than %(limit)s levels deep: no fact-check feed "
                    "is. Check that it is the feed the fact-checker publishes."
                )
                % {"limit": error.limit},
            )
        except ValueError as error:  # LibraryImportError and JSON errors
            detail = (
                str(error)
                if isinstance(error, LibraryImportError)
                else _("The file is not valid JSON.")
            )
            form.add_error("file", detail)
        else:
            if not parsed:
                form.add_error("file", _("No ClaimReview was found in this file."))
            else:
                done = claim_services.add_claims(_org(request), parsed, user=request.user)
                record(
                    _actor(request),
                    "claims.import",
                    organization=_org(request),
                    after={"created": done.created, "existing": done.existing},
                )
                messages.success(
                    request,
                    _("%(created)s claims added, %(existing)s already in the library.")
                    % {"created": done.created, "existing": done.existing},
                )
                return redirect("veille:claims", org_slug=_org(request).slug)
    response = _render(
        request,
        "claims_import.html",
        {
            "form": form,
            **_form_page(request, None, _("Import fact-checks"), "veille:claims", "claims"),
        },
    )
    if form.errors:
        response.status_code = 400
    return response


@org_view(Capability.ANALYZE)
def claim_matches(request: HttpRequest) -> HttpResponse:
    found = ClaimMatch.objects.filter(organization=_org(request)).select_related(
        "item__author", "claim"
    )
    if _wants_csv(request):
        return stream_csv(
            [
                "item_created_at",
                "author",
                "text",
                "item_url",
                "claim",
                "verdict",
                "fact_check",
                "similarity",
                "suggested_reply",
            ],
            (
                [
                    m.item.created_at,
                    m.item.author.handle,
                    m.item.text,
                    m.item.url,
                    m.claim.statement,
                    m.claim.verdict,
                    m.claim.url,
                    m.similarity,
                    m.claim.reply,
                ]
                for m in found.iterator()
            ),
            "claim-matches",
            request=request,
        )
    return _render(request, "claim_matches.html", {"page_obj": _page(request, found)})


# --- campaigns ---------------------------------------------------------------------------


@org_view(Capability.ANALYZE)
def campaigns(request: HttpRequest) -> HttpResponse:
    found = Campaign.objects.filter(organization=_org(request))
    status = request.GET.get("status", "")
    if status in Campaign.Status.values:
        found = found.filter(status=status)
    if _wants_csv(request):
        return stream_csv(
            ["id", "kind", "status", "accounts", "items", "first_at", "last_at", "shared"],
            (
                [
                    c.pk,
                    c.kind,
                    c.status,
                    c.account_count,
                    c.item_count,
                    c.first_at,
                    c.last_at,
                    c.shared,
                ]
                for c in found
            ),
            "campaigns",
            request=request,
        )
    return _render(
        request,
        "campaigns.html",
        {"page_obj": _page(request, found), "statuses": Campaign.Status.choices, "status": status},
    )


@org_view(Capability.ANALYZE)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, organization=_org(request), pk=pk)
    items = campaign.items.select_related("author").order_by("created_at")
    fmt = request.GET.get("format")
    if fmt == "csv":
        return _items_csv(request, items, f"campaign-{campaign.pk}")
    authors = list(campaign.authors.all())
    handles = {str(a.pk): a.handle for a in authors}
    edges = [
        [handles.get(str(e[0]), str(e[0])), handles.get(str(e[1]), str(e[1])), e[2]]
        for e in campaign.edges
        if len(e) >= 3
    ]
    if fmt == "graphml":
        return _graphml(campaign, [a.handle for a in authors], edges)
    per_account = Counter(items.values_list("author__handle", flat=True))
    return _render(
        request,
        "campaign.html",
        {
            "campaign": campaign,
            "items": items,
            "accounts": per_account.most_common(),
            "network": network_svg(
                [a.handle for a in authors],
                edges,
                title=_("Accounts of the campaign"),
                description=_("%(count)s accounts; lines join accounts that acted together.")
                % {"count": len(authors)},
            ),
            "chart": daily_chart(
                {
                    str(campaign.get_kind_display()): list(
                        items.values_list("created_at", flat=True)
                    )
                },
                days_back(CHART_DAYS),
                title=_("Posts of the campaign per day"),
                description=_("When the campaign's posts were published."),
                id_prefix="campaign-timeline",
                others_label="",
                value_label=_("items"),
            ),
            "statuses": Campaign.Status.choices,
        },
    )


def _graphml(campaign: Campaign, accounts: list[str], edges: list[list[Any]]) -> HttpResponse:
    """The campaign's accounts for Gephi: an edge per pair that acted together (weight = how
    often), or, for copies, per pair that posted the same text."""
    import itertools

    import networkx as nx

    graph = nx.Graph(name=f"campaign-{campaign.pk}")
    graph.add_nodes_from(accounts)
    if edges:
        for a, b, weight in edges:
            graph.add_edge(a, b, weight=int(weight), kind=campaign.kind)
    else:
        for a, b in itertools.combinations(accounts[:200], 2):
            graph.add_edge(a, b, weight=1, kind=campaign.kind)
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    response = HttpResponse(buffer.getvalue(), content_type="application/graphml+xml")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.graphml"'
    return response


@org_view(Capability.ANALYZE)
@require_POST
def campaign_status(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, organization=_org(request), pk=pk)
    status = request.POST.get("status", "")
    name = request.POST.get("name")
    before = snapshot(campaign, ["status", "name"])
    if status in Campaign.Status.values:
        campaign.status = status
    if name is not None:
        campaign.name = name.strip()[:200]
    campaign.save(update_fields=["status", "name", "updated_at"])
    record(
        _actor(request),
        "campaign.update",
        organization=_org(request),
        obj=campaign,
        before=before,
        after=snapshot(campaign, ["status", "name"]),
    )
    return redirect("veille:campaign", org_slug=_org(request).slug, pk=pk)


# --- impersonation -----------------------------------------------------------------------


@org_view(Capability.ANALYZE)
def identities_list(request: HttpRequest) -> HttpResponse:
    found = (
        ProtectedIdentity.objects.filter(organization=_org(request))
        .annotate(open_flags=Count("flags", filter=Q(flags__status=ImpersonationFlag.Status.OPEN)))
        .order_by("name")
    )

    return _render(request, "identities.html", {"identities": found})


@org_view(Capability.ANALYZE)
def identity_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    identity = (
        get_object_or_404(ProtectedIdentity, organization=_org(request), pk=pk)
        if pk
        else ProtectedIdentity(organization=_org(request))
    )
    form = IdentityForm(request.POST or None, request.FILES or None, instance=identity)
    result = _edit(
        request,
        form,
        "identity_form.html",
        "protected_identity.save",
        on_saved=lambda obj: identities.identities_changed(obj.organization),
        extra=_form_page(
            request, identity, _("Protected identity"), "veille:identities", "impersonators"
        ),
    )
    if isinstance(result, HttpResponse):
        return result
    messages.success(
        request,
        _("“%(name)s” is protected; every account will be checked against it.")
        % {"name": result.name},
    )
    return redirect("veille:identities", org_slug=_org(request).slug)


@org_view(Capability.ANALYZE)
@require_POST
def identity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(request, ProtectedIdentity, pk, "protected_identity.delete", "veille:identities")


@org_view(Capability.ANALYZE)
def impersonators(request: HttpRequest) -> HttpResponse:
    found = ImpersonationFlag.objects.filter(organization=_org(request)).select_related(
        "author", "identity"
    )
    status = request.GET.get("status", ImpersonationFlag.Status.OPEN)
    if status in ImpersonationFlag.Status.values:
        found = found.filter(status=status)
    if _wants_csv(request):
        return stream_csv(
            [
                "platform",
                "handle",
                "display_name",
                "profile",
                "imitates",
                "score",
                "evidence",
                "status",
                "flagged_at",
            ],
            (
                [
                    f.author.platform,
                    f.author.handle,
                    f.author.display_name,
                    f.author.url,
                    f.identity.name,
                    f.score,
                    f.evidence,
                    f.status,
                    f.created_at,
                ]
                for f in found
            ),
            "impersonators",
            request=request,
        )
    return _render(
        request,
        "impersonators.html",
        {
            "page_obj": _page(request, found),
            "statuses": ImpersonationFlag.Status.choices,
            "status": status,
        },
    )


@org_view(Capability.ANALYZE)
def impersonator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(
        ImpersonationFlag.objects.select_related("author", "identity"),
        organization=_org(request),
        pk=pk,
    )
    items = Item.objects.filter(author=flag.author).order_by("-created_at")[:50]
    return _render(
        request,
        "impersonator.html",
        {
            "flag": flag,
            "items": items,
            "report": identities.report_text(flag),
            "statuses": ImpersonationFlag.Status.choices,
        },
    )


@org_view(Capability.ANALYZE)
@require_POST
def impersonator_status(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(ImpersonationFlag, organization=_org(request), pk=pk)
    status = request.POST.get("status", "")
    if status in ImpersonationFlag.Status.values:
        before = snapshot(flag, ["status"])
        identities.decide(flag, status, request.user)
        record(
            _actor(request),
            "impersonation.decide",
            organization=_org(request),
            obj=flag,
            before=before,
            after=snapshot(flag, ["status"]),
        )
    return redirect("veille:impersonator", org_slug=_org(request).slug, pk=pk)
