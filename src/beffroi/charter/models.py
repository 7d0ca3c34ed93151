"""The organization's usage charter, in versions: categories with their clauses and thresholds,
and the organization's own rule entries.

A version is edited while it is a draft; it may then run in shadow (judging without acting)
and be published live. At most one version of an organization is live and at most one in
shadow (database constraints). A version that has run is never edited again: editing makes a
new draft copied from it, so the history of what applied when stays intact.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from beffroi.charter import dsa, dsa_labels
from beffroi.organizations.models import Organization
from beffroi.organizations.scoping import OrgManager


def _raise_problems(problems: list[tuple[str, str]], fields: dict[str, str]) -> None:
    """Raise the checks' problems as a ValidationError keyed by model field."""
    if not problems:
        return
    errors: dict[str, list[str]] = {}
    for path, message in problems:
        errors.setdefault(fields.get(path, path), []).append(message)
    raise ValidationError(errors)


class CharterVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SHADOW = "shadow", _("Shadow (runs without acting)")
        LIVE = "live", _("Live")
        RETIRED = "retired", _("Retired")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="charter_versions"
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    use_default_rules = models.BooleanField(
        _("use Beffroi's default rule lists"),
        default=True,
        help_text=_("The organization's own rule entries are added to the default lists."),
    )
    preamble_fr = models.TextField(_("preamble (French)"), blank=True, default="")
    preamble_en = models.TextField(_("preamble (English)"), blank=True, default="")
    notes = models.TextField(
        _("notes"),
        blank=True,
        default="",
        help_text=_("What changes in this version and why (internal, never published)."),
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("copied from"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    shadow_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["organization", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="charter_version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status="live"),
                name="charter_one_live_version",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status="shadow"),
                name="charter_one_shadow_version",
            ),
        ]
        verbose_name = _("charter version")

    def __str__(self) -> str:
        return f"{self.organization} v{self.number} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def preamble(self, language: str | None = None) -> str:
        language = language or get_language() or "fr"
        if language.startswith("en"):
            return self.preamble_en or self.preamble_fr
        return self.preamble_fr or self.preamble_en


class Category(models.Model):
    """One charter category: the clause citizens read and what Beffroi does at which confidence."""

    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        MEDIUM = 2, _("Medium")
        HIGH = 3, _("High")
        CRITICAL = 4, _("Critical")

    version = models.ForeignKey(CharterVersion, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(_("identifier"), max_length=64)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    clause_fr = models.TextField(_("clause (French)"))
    clause_en = models.TextField(_("clause (English)"))
    legal_reference = models.CharField(_("legal reference"), max_length=300, blank=True, default="")
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MEDIUM
    )
    hide_at = models.FloatField(
        _("hide at once from confidence"),
        null=True,
        blank=True,
        help_text=_("Between 0 and 1. Empty: never hidden automatically."),
    )
    review_at = models.FloatField(
        _("queue for review from confidence"),
        null=True,
        blank=True,
        help_text=_("Between 0 and 1. Empty: never queued. Below both thresholds: kept."),
    )
    auto_delete = models.BooleanField(
        _("delete instead of hiding"),
        default=False,
        help_text=_("Automatic deletion cannot be undone on most platforms; hiding can."),
    )
    shadow = models.BooleanField(
        _("shadow mode"),
        default=False,
        help_text=_("The category is judged and recorded but never acted on."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    dsa_decision_ground = models.CharField(
        _("DSA decision ground"),
        max_length=64,
        choices=list(dsa_labels.DECISION_GROUNDS.items()),
        default=dsa.DECISION_GROUND_INCOMPATIBLE,
    )
    dsa_category = models.CharField(
        _("DSA category"),
        max_length=96,
        choices=list(dsa_labels.STATEMENT_CATEGORIES.items()),
        default="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    )
    dsa_category_specification = models.JSONField(
        _("DSA category specification"), default=list, blank=True
    )
    dsa_category_specification_other = models.CharField(
        _("other specification"), max_length=500, blank=True, default=""
    )

    objects = OrgManager()
    organization_lookup = "version__organization"

    class Meta:
        ordering = ["version", "position", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "slug"], name="charter_category_unique_slug"
            ),
            models.CheckConstraint(
                condition=Q(hide_at__isnull=True) | Q(hide_at__gte=0, hide_at__lte=1),
                name="charter_category_hide_at_range",
            ),
            models.CheckConstraint(
                condition=Q(review_at__isnull=True) | Q(review_at__gte=0, review_at__lte=1),
                name="charter_category_review_at_range",
            ),
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=4),
                name="charter_category_severity_range",
            ),
        ]
        verbose_name = _("charter category")
        verbose_name_plural = _("charter categories")

    def __str__(self) -> str:
        return f"{self.slug} (v{self.version.number})"

    def name(self, language: str | None = None) -> str:
        language = language or get_language() or "fr"
        return self.name_en if language.startswith("en") else self.name_fr

    def clause(self, language: str | None = None) -> str:
        language = language or get_language() or "fr"
        return self.clause_en if language.startswith("en") else self.clause_fr

    def dsa_specification_labels(self) -> list[str]:
        return [dsa_labels.label(k) for k in self.dsa_category_specification]

    def clean(self) -> None:
        from beffroi.charter.validation import CATEGORY_FIELDS, category_problems

        _raise_problems(category_problems(self.as_data()), CATEGORY_FIELDS)

    def as_data(self) -> dict[str, Any]:
        """The category as plain data (the YAML layout), for checks, exports and diffs."""
        return {
            "slug": self.slug,
            "name": {"fr": self.name_fr, "en": self.name_en},
            "clause": {"fr": self.clause_fr, "en": self.clause_en},
            "legal_reference": self.legal_reference,
            "severity": self.severity,
            "hide_at": self.hide_at,
            "review_at": self.review_at,
            "auto_delete": self.auto_delete,
            "shadow": self.shadow,
            "enabled": self.enabled,
            "dsa": {
                "decision_ground": self.dsa_decision_ground,
                "category": self.dsa_category,
                "specification": list(self.dsa_category_specification),
                "specification_other": self.dsa_category_specification_other,
            },
        }


class RuleEntry(models.Model):
    """One of the organization's own rules, part of a charter version.

    Rules belong to a version rather than to the organization so that a change of the lists
    can run in shadow before it acts, and so that each decision's version says exactly which
    rules applied.
    """

    class Kind(models.TextChoices):
        KEYWORD = "keyword", _("Keyword")
        PHRASE = "phrase", _("Phrase")
        REGEX = "regex", _("Regular expression")
        DOMAIN = "domain", _("Domain")

    version = models.ForeignKey(CharterVersion, on_delete=models.CASCADE, related_name="rules")
    category = models.SlugField(_("category"), max_length=64)
    language = models.CharField(
        _("language"),
        max_length=8,
        default="fr",
        help_text=_("A language code such as fr, en or ar; * for every language."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.KEYWORD)
    pattern = models.CharField(_("pattern"), max_length=500)
    weight = models.FloatField(
        _("weight"), default=1.0, help_text=_("Confidence given by a match, from 0.01 to 1.")
    )
    note = models.CharField(_("note"), max_length=300, blank=True, default="")
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()
    organization_lookup = "version__organization"

    class Meta:
        ordering = ["version", "category", "language", "kind", "pattern"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "category", "language", "kind", "pattern"],
                name="charter_rule_unique",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0, weight__lte=1), name="charter_rule_weight_range"
            ),
        ]
        indexes = [models.Index(fields=["version", "category"], name="charter_rule_category")]
        verbose_name = _("rule entry")
        verbose_name_plural = _("rule entries")

    def __str__(self) -> str:
        return f"{self.category}/{self.language}/{self.kind}: {self.pattern}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies the rule across versions (for diffs)."""
        return (self.category, self.language, self.kind, self.pattern)

    def clean(self) -> None:
        from beffroi.charter.validation import rule_problems

        _raise_problems(rule_problems(self.as_data()), {})

    def as_data(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "language": self.language,
            "kind": self.kind,
            "pattern": self.pattern,
            "weight": self.weight,
            "note": self.note,
            "enabled": self.enabled,
        }
