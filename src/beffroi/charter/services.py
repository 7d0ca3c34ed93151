"""Changes to charters, each written to the audit trail, and what the rest of Beffroi reads.

Lifecycle of a version: ``draft`` (edited) → ``shadow`` (judges without acting) → ``live``
(applied) → ``retired``. A draft may also be published directly. Publishing retires the
previous live version; putting a version in shadow retires the previous shadow one. Only
drafts are edited: editing a version that has run makes a new draft copied from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.charter.models import Category, CharterVersion, RuleEntry
from beffroi.charter.yaml_io import CharterData, dump_charter, load_default_charter, parse_charter
from beffroi.organizations.models import Organization

if TYPE_CHECKING:
    from beffroi.analysis.moderation.rules import RuleSpec

Status = CharterVersion.Status

#: Category fields copied between versions and written by the forms.
CATEGORY_FIELDS = (
    "slug",
    "position",
    "name_fr",
    "name_en",
    "clause_fr",
    "clause_en",
    "legal_reference",
    "severity",
    "hide_at",
    "review_at",
    "auto_delete",
    "shadow",
    "enabled",
    "dsa_decision_ground",
    "dsa_category",
    "dsa_category_specification",
    "dsa_category_specification_other",
)
RULE_FIELDS = ("category", "language", "kind", "pattern", "weight", "note", "enabled")
VERSION_FIELDS = ("use_default_rules", "preamble_fr", "preamble_en", "notes")


# --- reading ------------------------------------------------------------------------------


def live_version(org: Organization) -> CharterVersion | None:
    return CharterVersion.objects.filter(organization=org, status=Status.LIVE).first()


def shadow_version(org: Organization) -> CharterVersion | None:
    return CharterVersion.objects.filter(organization=org, status=Status.SHADOW).first()


def rule_specs(version: CharterVersion) -> list[RuleSpec]:
    """The rules a version applies: Beffroi's default lists (unless switched off) and the
    organization's own enabled entries, whose ids name the organization and the entry."""
    from beffroi.analysis.moderation.rules import RuleSpec, is_rule_kind, load_default_rules

    specs: list[RuleSpec] = list(load_default_rules()) if version.use_default_rules else []
    slug = version.organization.slug
    for entry in version.rules.filter(enabled=True).order_by("pk"):
        kind = entry.kind
        if not is_rule_kind(kind):  # the form offers the kinds only; the detector refuses others
            raise ValueError(f"rule {entry.pk}: unknown kind {kind!r}")
        specs.append(
            RuleSpec(
                id=f"org:{slug}:{entry.pk}",
                category=entry.category,
                language=entry.language,
                kind=kind,
                pattern=entry.pattern,
                weight=entry.weight,
                note=entry.note,
            )
        )
    return specs


def version_data(version: CharterVersion) -> CharterData:
    """A version as plain data, in the YAML layout."""
    return CharterData(
        categories=[category.as_data() for category in version.categories.all()],
        rules=[rule.as_data() for rule in version.rules.all()],
        use_default_rules=version.use_default_rules,
        preamble_fr=version.preamble_fr,
        preamble_en=version.preamble_en,
        notes=version.notes,
    )


def export_yaml(version: CharterVersion) -> str:
    """The version as a YAML file that :func:`import_yaml` reads back."""
    header = (
        f"Usage charter of {version.organization.name} ({version.organization.slug}), "
        f"version {version.number} ({version.status}), exported by Beffroi."
    )
    info: dict[str, Any] = {"number": version.number, "status": version.status}
    if version.published_at is not None:
        info["published_at"] = version.published_at.isoformat()
    return dump_charter(version_data(version), header=header, version=info)


# --- creating versions --------------------------------------------------------------------


def _next_number(org: Organization) -> int:
    latest = CharterVersion.objects.filter(organization=org).aggregate(n=Max("number"))["n"]
    return (latest or 0) + 1


def _category_from_data(version: CharterVersion, position: int, data: dict[str, Any]) -> Category:
    dsa_block = data["dsa"]
    return Category(
        version=version,
        slug=data["slug"],
        position=position,
        name_fr=data["name"]["fr"].strip(),
        name_en=data["name"]["en"].strip(),
        clause_fr=data["clause"]["fr"].strip(),
        clause_en=data["clause"]["en"].strip(),
        legal_reference=(data.get("legal_reference") or "").strip(),
        severity=data["severity"],
        hide_at=data.get("hide_at"),
        review_at=data.get("review_at"),
        auto_delete=data.get("auto_delete", False),
        shadow=data.get("shadow", False),
        enabled=data.get("enabled", True),
        dsa_decision_ground=dsa_block["decision_ground"],
        dsa_category=dsa_block["category"],
        dsa_category_specification=list(dsa_block.get("specification") or []),
        dsa_category_specification_other=dsa_block.get("specification_other") or "",
    )


def _create_from_data(
    actor: Actor, org: Organization, data: CharterData, *, status: str, notes: str = ""
) -> CharterVersion:
    now = timezone.now()
    version = CharterVersion.objects.create(
        organization=org,
        number=_next_number(org),
        status=status,
        use_default_rules=data.use_default_rules,
        preamble_fr=data.preamble_fr,
        preamble_en=data.preamble_en,
        notes=notes or data.notes,
        created_by=_user(actor),
        published_at=now if status == Status.LIVE else None,
    )
    Category.objects.bulk_create(
        [
            _category_from_data(version, position, category)
            for position, category in enumerate(data.categories, start=1)
        ]
    )
    RuleEntry.objects.bulk_create(
        [RuleEntry(version=version, created_by=_user(actor), **rule) for rule in data.rules]
    )
    return version


def _user(actor: Actor) -> Any:
    return actor.user if getattr(actor.user, "is_authenticated", False) else None


def _summary(version: CharterVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "categories": version.categories.count(),
        "rules": version.rules.count(),
        "use_default_rules": version.use_default_rules,
    }


def start_with_default_charter(
    sender: Any, organization: Organization, actor: Actor, **kwargs: Any
) -> None:
    """Every organization starts with Beffroi's default charter live, so that what it ingests
    is judged from the first sync; its admins then adapt it (``organization_created``)."""
    ensure_default_charter(organization, actor)


@transaction.atomic
def ensure_default_charter(org: Organization, actor: Actor | None = None) -> CharterVersion:
    """The organization's live version; if it has no charter at all, version 1 is created live
    from Beffroi's default charter. Idempotent: an organization that has versions (even none
    live) is left as it is, and its live or latest version returned."""
    # Lock the organization row so that two concurrent calls create one version 1.
    Organization.objects.select_for_update().filter(pk=org.pk).first()
    existing = CharterVersion.objects.filter(organization=org)
    live = existing.filter(status=Status.LIVE).first()
    if live is not None:
        return live
    latest = existing.order_by("-number").first()
    if latest is not None:
        return latest
    actor = actor or Actor.system("system:default-charter")
    version = _create_from_data(
        actor,
        org,
        load_default_charter(),
        status=Status.LIVE,
        notes=_("Beffroi's default charter."),
    )
    record(
        actor,
        AuditAction.CHARTER_CREATE_DEFAULT,
        organization=org,
        obj=version,
        after=_summary(version),
    )
    return version


@transaction.atomic
def create_draft(
    actor: Actor, org: Organization, source: CharterVersion | None = None, *, notes: str = ""
) -> CharterVersion:
    """A new draft copied from ``source`` (default: the live version, else the latest one,
    else Beffroi's default charter): categories, rules and settings."""
    if source is None:
        source = live_version(org) or (
            CharterVersion.objects.filter(organization=org).order_by("-number").first()
        )
    if source is not None and source.organization_id != org.pk:
        raise ValidationError(_("This version belongs to another organization."))
    if source is None:
        draft = _create_from_data(
            actor, org, load_default_charter(), status=Status.DRAFT, notes=notes
        )
    else:
        draft = CharterVersion.objects.create(
            organization=org,
            number=_next_number(org),
            status=Status.DRAFT,
            use_default_rules=source.use_default_rules,
            preamble_fr=source.preamble_fr,
            preamble_en=source.preamble_en,
            notes=notes,
            based_on=source,
            created_by=_user(actor),
        )
        Category.objects.bulk_create(
            [
                Category(version=draft, **{name: getattr(c, name) for name in CATEGORY_FIELDS})
                for c in source.categories.all()
            ]
        )
        RuleEntry.objects.bulk_create(
            [
                RuleEntry(
                    version=draft,
                    created_by=r.created_by,
                    **{name: getattr(r, name) for name in RULE_FIELDS},
                )
                for r in source.rules.all()
            ]
        )
    after = _summary(draft) | {"based_on": source.number if source is not None else None}
    record(actor, AuditAction.CHARTER_DRAFT, organization=org, obj=draft, after=after)
    return draft


@transaction.atomic
def import_yaml(actor: Actor, org: Organization, text: str | bytes) -> CharterVersion:
    """A new draft from a charter file; raises :class:`~.yaml_io.CharterFormatError`."""
    data = parse_charter(text)
    draft = _create_from_data(actor, org, data, status=Status.DRAFT)
    record(actor, AuditAction.CHARTER_IMPORT, organization=org, obj=draft, after=_summary(draft))
    return draft


# --- editing drafts -----------------------------------------------------------------------


def _restore(obj: Any) -> None:
    """Undo the refused changes on the caller's object (a new one has nothing to undo)."""
    if obj.pk is not None:
        obj.refresh_from_db()


def _require_draft(version: CharterVersion) -> None:
    if version.status != Status.DRAFT:
        raise ValidationError(
            _(
                "Version %(number)s is %(status)s: only a draft can be changed. "
                "Make a new draft from it."
            )
            % {"number": version.number, "status": version.get_status_display()}
        )


@transaction.atomic
def update_version(actor: Actor, version: CharterVersion, **changes: Any) -> CharterVersion:
    """Change a draft's settings (default rules on or off, preambles, notes)."""
    _require_draft(version)
    unknown = set(changes) - set(VERSION_FIELDS)
    if unknown:
        raise ValueError(f"Not a version setting: {sorted(unknown)}")
    before = snapshot(version, list(VERSION_FIELDS))
    for name, value in changes.items():
        setattr(version, name, value)
    try:
        version.full_clean()
    except ValidationError:
        _restore(version)
        raise
    version.save()
    record(
        actor,
        AuditAction.CHARTER_VERSION_UPDATE,
        organization=version.organization,
        obj=version,
        before=before,
        after=snapshot(version, list(VERSION_FIELDS)),
    )
    return version


@transaction.atomic
def save_category(
    actor: Actor, version: CharterVersion, category: Category | None = None, **values: Any
) -> Category:
    """Create (``category=None``) or change a category of a draft."""
    _require_draft(version)
    unknown = set(values) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValueError(f"Not a category field: {sorted(unknown)}")
    if category is None:
        if "position" not in values:
            latest = version.categories.aggregate(p=Max("position"))["p"]
            values["position"] = (latest or 0) + 1
        category = Category(version=version)
        before = None
    else:
        if category.version_id != version.pk:
            raise ValidationError(_("This category belongs to another version."))
        before = snapshot(category)
        if "slug" in values and values["slug"] != category.slug:
            # Detectors and rules name categories by their identifier.
            raise ValidationError(
                {"slug": _("The identifier of a category cannot change; add a new category.")}
            )
    for name, value in values.items():
        setattr(category, name, value)
    try:
        category.full_clean()
    except ValidationError:
        _restore(category)
        raise
    category.save()
    record(
        actor,
        AuditAction.CHARTER_CATEGORY_CREATE
        if before is None
        else AuditAction.CHARTER_CATEGORY_UPDATE,
        organization=version.organization,
        obj=category,
        before=before,
        after=snapshot(category) | {"version": version.number},
    )
    return category


@transaction.atomic
def delete_category(actor: Actor, category: Category) -> None:
    version = category.version
    _require_draft(version)
    rules = version.rules.filter(category=category.slug)
    before = snapshot(category) | {"version": version.number, "rules_deleted": rules.count()}
    rules.delete()
    category.delete()
    record(
        actor, AuditAction.CHARTER_CATEGORY_DELETE, organization=version.organization, before=before
    )


def _check_rule_category(version: CharterVersion, category: str) -> None:
    if not version.categories.filter(slug=category).exists():
        raise ValidationError(
            {"category": _("“%(slug)s” is not a category of this version.") % {"slug": category}}
        )


@transaction.atomic
def save_rule(
    actor: Actor, version: CharterVersion, rule: RuleEntry | None = None, **values: Any
) -> RuleEntry:
    """Create (``rule=None``) or change one of the organization's rule entries in a draft."""
    _require_draft(version)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"Not a rule field: {sorted(unknown)}")
    if rule is None:
        rule = RuleEntry(version=version, created_by=_user(actor))
        before = None
    else:
        if rule.version_id != version.pk:
            raise ValidationError(_("This rule belongs to another version."))
        before = snapshot(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    if rule.kind == RuleEntry.Kind.DOMAIN and isinstance(rule.pattern, str):
        rule.pattern = rule.pattern.strip().lower()
    try:
        _check_rule_category(version, rule.category)
        rule.full_clean()
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError as exc:
            raise ValidationError({"pattern": _("This rule is already in the list.")}) from exc
    except ValidationError:
        _restore(rule)
        raise
    record(
        actor,
        AuditAction.CHARTER_RULE_CREATE if before is None else AuditAction.CHARTER_RULE_UPDATE,
        organization=version.organization,
        obj=rule,
        before=before,
        after=snapshot(rule) | {"version": version.number},
    )
    return rule


@transaction.atomic
def delete_rule(actor: Actor, rule: RuleEntry) -> None:
    version = rule.version
    _require_draft(version)
    before = snapshot(rule) | {"version": version.number}
    rule.delete()
    record(actor, AuditAction.CHARTER_RULE_DELETE, organization=version.organization, before=before)


@dataclass
class BulkResult:
    created: list[RuleEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the list
    errors: list[str] = field(default_factory=list)  # "line N: problem"


def split_patterns(text: str) -> list[str]:
    """One pattern per line (commas separate too, except in regular expressions)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@transaction.atomic
def add_rules(
    actor: Actor,
    version: CharterVersion,
    *,
    category: str,
    language: str,
    kind: str,
    patterns: Sequence[str],
    weight: float = 1.0,
    note: str = "",
) -> BulkResult:
    """Add many patterns at once (a pasted list). Nothing is added if any line is invalid;
    patterns already in the list are skipped."""
    from beffroi.charter.validation import rule_problems

    _require_draft(version)
    _check_rule_category(version, category)
    result = BulkResult()
    existing = set(
        version.rules.filter(category=category, language=language, kind=kind).values_list(
            "pattern", flat=True
        )
    )
    seen: set[str] = set()
    entries: list[RuleEntry] = []
    for number, raw in enumerate(patterns, start=1):
        pattern = raw.strip().lower() if kind == RuleEntry.Kind.DOMAIN else raw.strip()
        if not pattern:
            continue
        data = {
            "category": category,
            "language": language,
            "kind": kind,
            "pattern": pattern,
            "weight": weight,
            "note": note,
            "enabled": True,
        }
        for path, message in rule_problems(data):
            result.errors.append(
                _("line %(number)d (%(pattern)s): %(field)s: %(message)s")
                % {"number": number, "pattern": pattern, "field": path, "message": message}
            )
        if pattern in existing or pattern in seen:
            result.skipped.append(pattern)
            continue
        seen.add(pattern)
        entries.append(RuleEntry(version=version, created_by=_user(actor), **data))
    if result.errors:
        return result
    result.created = RuleEntry.objects.bulk_create(entries)
    if result.created:
        record(
            actor,
            AuditAction.CHARTER_RULE_BULK_CREATE,
            organization=version.organization,
            obj=version,
            after={
                "version": version.number,
                "category": category,
                "language": language,
                "kind": kind,
                "patterns": [entry.pattern for entry in result.created],
                "skipped": result.skipped,
            },
        )
    return result


# --- lifecycle ----------------------------------------------------------------------------


def _lock_versions(org: Organization) -> None:
    # Serialize lifecycle changes of one organization (the constraints are the last guard).
    Organization.objects.select_for_update().filter(pk=org.pk).first()


def _check_publishable(version: CharterVersion) -> None:
    if not version.categories.exists():
        raise ValidationError(_("A charter without any category cannot be applied."))
    problems: list[str] = []
    slugs = set(version.categories.values_list("slug", flat=True))
    for category in version.categories.all():
        try:
            category.full_clean()
        except ValidationError as exc:
            problems += [f"{category.slug}: {message}" for message in exc.messages]
    orphans = sorted(set(version.rules.values_list("category", flat=True)) - slugs)
    if orphans:
        problems.append(
            _("Rules cite categories that do not exist: %(slugs)s.") % {"slugs": ", ".join(orphans)}
        )
    if problems:
        raise ValidationError(problems)


def _retire(actor: Actor, version: CharterVersion, reason: str) -> None:
    previous = version.status
    version.status = Status.RETIRED
    version.retired_at = timezone.now()
    version.save(update_fields=["status", "retired_at"])
    record(
        actor,
        AuditAction.CHARTER_RETIRE,
        organization=version.organization,
        obj=version,
        before={"status": previous},
        after={"status": version.status, "number": version.number, "reason": reason},
    )


@transaction.atomic
def start_shadow(actor: Actor, version: CharterVersion) -> CharterVersion:
    """Run a draft in shadow: it judges every item and records what it would have done,
    without acting. A version already in shadow is retired."""
    org = version.organization
    _lock_versions(org)
    version.refresh_from_db()
    _require_draft(version)
    _check_publishable(version)
    current = shadow_version(org)
    if current is not None:
        _retire(actor, current, f"replaced in shadow by version {version.number}")
    version.status = Status.SHADOW
    version.shadow_at = timezone.now()
    version.save(update_fields=["status", "shadow_at"])
    record(
        actor,
        AuditAction.CHARTER_SHADOW,
        organization=org,
        obj=version,
        before={"status": Status.DRAFT},
        after=_summary(version),
    )
    return version


@transaction.atomic
def publish(actor: Actor, version: CharterVersion) -> CharterVersion:
    """Apply a draft or shadow version; the version live until now is retired."""
    org = version.organization
    _lock_versions(org)
    version.refresh_from_db()
    if version.status not in (Status.DRAFT, Status.SHADOW):
        raise ValidationError(
            _("Only a draft or a version in shadow can be published (this one is %(status)s).")
            % {"status": version.get_status_display()}
        )
    _check_publishable(version)
    previous_status = version.status
    current = live_version(org)
    if current is not None:
        _retire(actor, current, f"replaced by version {version.number}")
    version.status = Status.LIVE
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    record(
        actor,
        AuditAction.CHARTER_PUBLISH,
        organization=org,
        obj=version,
        before={"status": previous_status, "live": current.number if current else None},
        after=_summary(version),
    )
    return version


@transaction.atomic
def retire(actor: Actor, version: CharterVersion) -> CharterVersion:
    """Stop a live or shadow version. Without a live version nothing is judged automatically."""
    _lock_versions(version.organization)
    version.refresh_from_db()
    if version.status not in (Status.LIVE, Status.SHADOW):
        raise ValidationError(_("Only a live version or a version in shadow can be retired."))
    _retire(actor, version, "retired by hand")
    return version


@transaction.atomic
def discard_draft(actor: Actor, version: CharterVersion) -> None:
    """Delete a draft (it never ran); its content stays in the audit event."""
    _require_draft(version)
    before = _summary(version) | {"yaml": export_yaml(version)}
    org = version.organization
    version.delete()
    record(actor, AuditAction.CHARTER_DISCARD, organization=org, before=before)


# --- comparing versions -------------------------------------------------------------------


@dataclass
class CategoryChange:
    slug: str
    fields: list[tuple[str, Any, Any]]  # (field, before, after)


@dataclass
class VersionDiff:
    """What changes from version ``old`` to version ``new``."""

    old: CharterVersion
    new: CharterVersion
    settings: list[tuple[str, Any, Any]] = field(default_factory=list)
    categories_added: list[Category] = field(default_factory=list)
    categories_removed: list[Category] = field(default_factory=list)
    categories_changed: list[CategoryChange] = field(default_factory=list)
    rules_added: list[RuleEntry] = field(default_factory=list)
    rules_removed: list[RuleEntry] = field(default_factory=list)
    rules_changed: list[tuple[RuleEntry, list[tuple[str, Any, Any]]]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(
            (
                self.settings,
                self.categories_added,
                self.categories_removed,
                self.categories_changed,
                self.rules_added,
                self.rules_removed,
                self.rules_changed,
            )
        )


def _field_changes(old: Any, new: Any, names: Iterable[str]) -> list[tuple[str, Any, Any]]:
    return [
        (name, getattr(old, name), getattr(new, name))
        for name in names
        if getattr(old, name) != getattr(new, name)
    ]


def diff_versions(old: CharterVersion, new: CharterVersion) -> VersionDiff:
    """Categories and rules added, removed or changed, and changed settings."""
    if old.organization_id != new.organization_id:
        raise ValidationError(_("Only versions of the same organization can be compared."))
    diff = VersionDiff(old=old, new=new)
    diff.settings = _field_changes(old, new, VERSION_FIELDS[:3])
    old_categories = {c.slug: c for c in old.categories.all()}
    new_categories = {c.slug: c for c in new.categories.all()}
    compared = [name for name in CATEGORY_FIELDS if name not in ("slug", "position")]
    for slug, category in new_categories.items():
        if slug not in old_categories:
            diff.categories_added.append(category)
        else:
            changes = _field_changes(old_categories[slug], category, compared)
            if changes:
                diff.categories_changed.append(CategoryChange(slug, changes))
    diff.categories_removed = [c for s, c in old_categories.items() if s not in new_categories]
    old_rules = {r.key: r for r in old.rules.all()}
    new_rules = {r.key: r for r in new.rules.all()}
    for key, rule in new_rules.items():
        if key not in old_rules:
            diff.rules_added.append(rule)
        else:
            changes = _field_changes(old_rules[key], rule, ("weight", "note", "enabled"))
            if changes:
                diff.rules_changed.append((rule, changes))
    diff.rules_removed = [r for k, r in old_rules.items() if k not in new_rules]
    return diff
