"""Charter pages: versions, categories, rule lists, lifecycle, YAML, diff; and the public page.

Who may do what: every member reads the charter; moderators make drafts, edit their rule
lists and run them in shadow; administrators edit categories, publish, retire and import.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.charter import services
from beffroi.charter.forms import (
    BulkRuleForm,
    CategoryForm,
    DiffForm,
    ImportForm,
    RuleFilterForm,
    RuleForm,
    VersionForm,
)
from beffroi.charter.models import Category, CharterVersion, RuleEntry
from beffroi.charter.yaml_io import MAX_YAML_BYTES, CharterFormatError
from beffroi.core.uploads import too_large_response, upload_too_large
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability

RULES_PER_PAGE = 100
PUBLIC_LANGUAGES = ("fr", "en")


def _to_version(version: CharterVersion) -> HttpResponse:
    return redirect("charter:version", org_slug=version.organization.slug, pk=version.pk)


def _refuse_unless_draft(request: OrgRequest, version: CharterVersion) -> HttpResponse | None:
    if version.is_draft:
        return None
    messages.error(
        request,
        _("Version %(number)s has been applied: it cannot be changed. Make a new draft from it.")
        % {"number": version.number},
    )
    return _to_version(version)


def _add_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _permissions(request: OrgRequest) -> dict[str, bool]:
    return {
        "can_moderate": request.org.can(Capability.MODERATE),
        "can_manage": request.org.can(Capability.MANAGE),
    }


def _category_choices(version: CharterVersion) -> list[tuple[str, str]]:
    return [(c.slug, f"{c.name()} ({c.slug})") for c in version.categories.all()]


# --- versions -----------------------------------------------------------------------------


@org_view(Capability.VIEW)
def index(request: OrgRequest) -> HttpResponse:
    versions = list(
        request.org.scoped(CharterVersion)
        .select_related("created_by", "based_on")
        .annotate(category_count=Count("categories", distinct=True))
        .annotate(rule_count=Count("rules", distinct=True))
    )
    live = next((v for v in versions if v.status == CharterVersion.Status.LIVE), None)
    shadow = next((v for v in versions if v.status == CharterVersion.Status.SHADOW), None)
    numbers = [v.number for v in versions]
    diff_form = None
    if len(numbers) >= 2:
        diff_form = DiffForm(
            numbers=numbers, initial={"old": numbers[1], "new": numbers[0]}, auto_id="diff_%s"
        )
    return render(
        request,
        "charter/index.html",
        {
            "nav": "charter",
            "versions": versions,
            "live": live,
            "shadow": shadow,
            "live_categories": live.categories.all() if live else [],
            "diff_form": diff_form,
            **_permissions(request),
        },
    )


@org_view(Capability.VIEW)
def version_detail(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    rule_counts = dict(
        version.rules.values_list("category").annotate(n=Count("id")).values_list("category", "n")
    )
    categories = list(version.categories.all())
    for category in categories:
        category.rule_count = rule_counts.get(category.slug, 0)  # type: ignore[attr-defined]
    live = services.live_version(request.org.organization)
    return render(
        request,
        "charter/version.html",
        {
            "nav": "charter",
            "version": version,
            "categories": categories,
            "rule_total": sum(rule_counts.values()),
            "live": live,
            "editable": version.is_draft and request.org.can(Capability.MANAGE),
            **_permissions(request),
        },
    )


@org_view(Capability.MANAGE)
def version_edit(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    refused = _refuse_unless_draft(request, version)
    if refused is not None:
        return refused
    form = VersionForm(
        request.POST if request.method == "POST" else None,
        instance=CharterVersion.objects.get(pk=version.pk),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_version(
                request.org.actor,
                version,
                **{name: form.cleaned_data[name] for name in form.fields},
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The settings of the draft are saved."))
            return _to_version(version)
    return render(
        request, "charter/version_form.html", {"nav": "charter", "version": version, "form": form}
    )


@org_view(Capability.MODERATE)
@require_POST
def draft_create(request: OrgRequest) -> HttpResponse:
    source = None
    if request.POST.get("source"):
        try:
            source = request.org.get(CharterVersion, pk=int(request.POST["source"]))
        except ValueError as exc:
            raise Http404("No such version") from exc
    draft = services.create_draft(request.org.actor, request.org.organization, source)
    messages.success(
        request,
        _("Draft %(number)s is created; edit it, then run it in shadow or publish it.")
        % {"number": draft.number},
    )
    return _to_version(draft)


def _lifecycle(request: OrgRequest, pk: int, action: Any, done: str) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    try:
        action(request.org.actor, version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done % {"number": version.number})
    return _to_version(version)


@org_view(Capability.MODERATE)
@require_POST
def shadow(request: OrgRequest, pk: int) -> HttpResponse:
    return _lifecycle(
        request,
        pk,
        services.start_shadow,
        _("Version %(number)s runs in shadow: it records what it would do, without acting."),
    )


@org_view(Capability.MANAGE)
@require_POST
def publish(request: OrgRequest, pk: int) -> HttpResponse:
    return _lifecycle(
        request, pk, services.publish, _("Version %(number)s is live: it now applies.")
    )


@org_view(Capability.MANAGE)
@require_POST
def retire(request: OrgRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, services.retire, _("Version %(number)s is retired."))


@org_view(Capability.MODERATE)
@require_POST
def discard(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    try:
        services.discard_draft(request.org.actor, version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _to_version(version)
    messages.success(request, _("Draft %(number)s is deleted.") % {"number": version.number})
    return redirect("charter:index", org_slug=request.org.organization.slug)


# --- categories ---------------------------------------------------------------------------


def _category_page(
    request: OrgRequest, version: CharterVersion, category: Category | None
) -> HttpResponse:
    refused = _refuse_unless_draft(request, version)
    if refused is not None:
        return refused
    # The form works on its own copy so that the audit sees the category as it was.
    instance = (
        Category.objects.get(pk=category.pk) if category is not None else Category(version=version)
    )
    form = CategoryForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_category(request.org.actor, version, category, **form.values())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("The category “%(name)s” is saved.") % {"name": saved.name()}
            )
            return _to_version(version)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "charter/category_form.html",
        {"nav": "charter", "version": version, "category": category, "form": form},
        status=status,
    )


@org_view(Capability.MANAGE)
def category_create(request: OrgRequest, pk: int) -> HttpResponse:
    return _category_page(request, request.org.get(CharterVersion, pk=pk), None)


@org_view(Capability.MANAGE)
def category_edit(request: OrgRequest, pk: int) -> HttpResponse:
    category = request.org.get(Category.objects.select_related("version"), pk=pk)
    return _category_page(request, category.version, category)


@org_view(Capability.MANAGE)
@require_POST
def category_delete(request: OrgRequest, pk: int) -> HttpResponse:
    category = request.org.get(Category.objects.select_related("version"), pk=pk)
    try:
        services.delete_category(request.org.actor, category)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The category “%(name)s” is deleted.") % {"name": category.name()}
        )
    return _to_version(category.version)


# --- rule entries -------------------------------------------------------------------------


@org_view(Capability.VIEW)
def rules(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    entries = version.rules.select_related("created_by")
    languages = sorted(
        {*version.rules.values_list("language", flat=True).distinct(), "fr", "en", "ar"}
    )
    filters = RuleFilterForm(
        request.GET or None, categories=_category_choices(version), languages=languages
    )
    if filters.is_bound and filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            entries = entries.filter(Q(pattern__icontains=data["q"]) | Q(note__icontains=data["q"]))
        for name in ("category", "language", "kind"):
            if data[name]:
                entries = entries.filter(**{name: data[name]})
    page = Paginator(entries, RULES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "charter",
        "version": version,
        "filters": filters,
        "page_obj": page,
        "htmx_target": "#rule-results",
        "total": version.rules.count(),
        "can_edit": version.is_draft and request.org.can(Capability.MODERATE),
        "category_names": {c.slug: c.name() for c in version.categories.all()},
        **_permissions(request),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "charter/_rules_table.html", context)
    return render(request, "charter/rules.html", context)


def _rule_page(
    request: OrgRequest, version: CharterVersion, rule: RuleEntry | None
) -> HttpResponse:
    refused = _refuse_unless_draft(request, version)
    if refused is not None:
        return refused
    instance = RuleEntry.objects.get(pk=rule.pk) if rule is not None else RuleEntry(version=version)
    initial = {}
    if rule is None:
        initial = {
            key: request.GET[key] for key in ("category", "language", "kind") if key in request.GET
        }
    form = RuleForm(
        request.POST if request.method == "POST" else None,
        instance=instance,
        initial=initial,
        categories=_category_choices(version),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rule(request.org.actor, version, rule, **form.values())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The rule is saved."))
            return redirect("charter:rules", org_slug=version.organization.slug, pk=version.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "charter/rule_form.html",
        {"nav": "charter", "version": version, "rule": rule, "form": form},
        status=status,
    )


@org_view(Capability.MODERATE)
def rule_create(request: OrgRequest, pk: int) -> HttpResponse:
    return _rule_page(request, request.org.get(CharterVersion, pk=pk), None)


@org_view(Capability.MODERATE)
def rule_edit(request: OrgRequest, pk: int) -> HttpResponse:
    rule = request.org.get(RuleEntry.objects.select_related("version"), pk=pk)
    return _rule_page(request, rule.version, rule)


@org_view(Capability.MODERATE)
@require_POST
def rule_delete(request: OrgRequest, pk: int) -> HttpResponse:
    rule = request.org.get(RuleEntry.objects.select_related("version"), pk=pk)
    try:
        services.delete_rule(request.org.actor, rule)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The rule “%(pattern)s” is deleted.") % {"pattern": rule.pattern}
        )
    return redirect("charter:rules", org_slug=rule.version.organization.slug, pk=rule.version.pk)


@org_view(Capability.MODERATE)
def rule_bulk(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    refused = _refuse_unless_draft(request, version)
    if refused is not None:
        return refused
    form = BulkRuleForm(
        request.POST if request.method == "POST" else None, categories=_category_choices(version)
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.add_rules(
                request.org.actor,
                version,
                category=data["category"],
                language=data["language"],
                kind=data["kind"],
                patterns=data["patterns"],
                weight=data["weight"],
                note=data["note"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if result.errors:
                errors = result.errors
                form.add_error(
                    "patterns",
                    _("%(count)d line(s) are invalid; nothing was added.")
                    % {"count": len(result.errors)},
                )
            else:
                messages.success(
                    request,
                    _("%(created)d rule(s) added, %(skipped)d already in the list.")
                    % {"created": len(result.created), "skipped": len(result.skipped)},
                )
                return redirect("charter:rules", org_slug=version.organization.slug, pk=version.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "charter/rule_bulk.html",
        {"nav": "charter", "version": version, "form": form, "line_errors": errors},
        status=status,
    )


# --- YAML and diff ------------------------------------------------------------------------


@org_view(Capability.VIEW)
def export(request: OrgRequest, pk: int) -> HttpResponse:
    version = request.org.get(CharterVersion, pk=pk)
    response = HttpResponse(
        services.export_yaml(version), content_type="application/yaml; charset=utf-8"
    )
    filename = f"charter-{version.organization.slug}-v{version.number}.yaml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@org_view(Capability.MANAGE)
def import_charter(request: OrgRequest) -> HttpResponse:
    context: dict[str, Any] = {"nav": "charter", "problems": []}
    if request.method != "POST":
        context["form"] = ImportForm()
        return render(request, "charter/import.html", context)
    if upload_too_large(request, MAX_YAML_BYTES):
        return too_large_response(request, MAX_YAML_BYTES)
    form = ImportForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return render(request, "charter/import.html", context, status=400)
    content = form.cleaned_data["file"].read(MAX_YAML_BYTES + 1)
    try:
        draft = services.import_yaml(request.org.actor, request.org.organization, content)
    except CharterFormatError as exc:
        form.add_error("file", _("The file is not a valid charter: see the problems below."))
        context["problems"] = exc.problems
        return render(request, "charter/import.html", context, status=400)
    messages.success(
        request, _("The file is imported as draft %(number)s.") % {"number": draft.number}
    )
    return _to_version(draft)


def _labelled(model: Any, changes: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    return [(str(model._meta.get_field(name).verbose_name), old, new) for name, old, new in changes]


@org_view(Capability.VIEW)
def diff(request: OrgRequest) -> HttpResponse:
    numbers = list(request.org.scoped(CharterVersion).values_list("number", flat=True))
    form = DiffForm(request.GET or None, numbers=numbers, auto_id="diff_%s")
    result = None
    if form.is_bound and form.is_valid():
        versions = {
            v.number: v for v in request.org.scoped(CharterVersion).filter(number__in=numbers)
        }
        result = services.diff_versions(
            versions[form.cleaned_data["old"]], versions[form.cleaned_data["new"]]
        )
        # Field names as people read them.
        result.settings = _labelled(CharterVersion, result.settings)
        for change in result.categories_changed:
            change.fields = _labelled(Category, change.fields)
        result.rules_changed = [
            (rule, _labelled(RuleEntry, changes)) for rule, changes in result.rules_changed
        ]
    return render(request, "charter/diff.html", {"nav": "charter", "form": form, "diff": result})


# --- the public page ----------------------------------------------------------------------


def public_charter(request: HttpRequest, slug: str) -> HttpResponse:
    """The live charter as citizens read it: no login, no internal data (thresholds, rules)."""
    organization = get_object_or_404(Organization, slug=slug)
    version = services.live_version(organization)
    if version is None:
        raise Http404("No published charter")
    language = request.GET.get("lang") or translation.get_language() or "fr"
    language = language[:2] if language[:2] in PUBLIC_LANGUAGES else "fr"
    categories = version.categories.filter(enabled=True)
    base = reverse("charter_public:page", args=[organization.slug])
    with translation.override(language):
        response = render(
            request,
            "charter/public.html",
            {
                "organization": organization,
                "version": version,
                "categories": [
                    {
                        "slug": c.slug,
                        "name": c.name(language),
                        "clause": c.clause(language),
                        "legal_reference": c.legal_reference,
                    }
                    for c in categories
                ],
                "preamble": version.preamble(language),
                "language": language,
                "languages": [
                    (code, name, f"{base}?lang={code}")
                    for code, name in (("fr", "Français"), ("en", "English"))
                ],
            },
        )
    response["Content-Language"] = language
    return response
