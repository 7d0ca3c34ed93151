"""Charter forms. The models' checks (:mod:`.validation`) run through ``full_clean``, so each
problem is shown next to its field (Django ties it with ``aria-describedby``)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beffroi.charter import dsa, dsa_labels
from beffroi.charter.models import Category, CharterVersion, RuleEntry
from beffroi.charter.services import CATEGORY_FIELDS
from beffroi.charter.yaml_io import MAX_YAML_BYTES
from beffroi.core.forms import set_choices

RULE_LANGUAGES = [
    ("fr", _("French")),
    ("en", _("English")),
    ("ar", _("Arabic")),
    ("*", _("Every language")),
]
MAX_BULK_PATTERNS = 2000


def _threshold_field(label: Any, help_text: Any) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        help_text=help_text,
        required=False,
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
    )


def specification_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """DSA keywords grouped under the DSA category they belong to."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for category, keywords in dsa.KEYWORDS_BY_CATEGORY.items():
        if keywords:
            groups.append(
                (
                    dsa_labels.label(category),
                    [(k, dsa_labels.label(k)) for k in keywords],
                )
            )
    free = [k for k in dsa.CATEGORY_SPECIFICATIONS if not dsa.categories_for_keyword(k)]
    groups.append(
        (
            str(_("Any category")),
            [(k, dsa_labels.label(k)) for k in free],
        )
    )
    return groups


class VersionForm(forms.ModelForm[CharterVersion]):
    class Meta:
        model = CharterVersion
        fields = ["use_default_rules", "preamble_fr", "preamble_en", "notes"]
        widgets = {
            "preamble_fr": forms.Textarea(attrs={"rows": 5, "lang": "fr"}),
            "preamble_en": forms.Textarea(attrs={"rows": 5, "lang": "en"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "preamble_fr": _("Shown above the categories on the public page."),
            "preamble_en": _("Shown above the categories on the public page in English."),
        }


class CategoryForm(forms.ModelForm[Category]):
    hide_at = _threshold_field(
        _("Hide at once from confidence"),
        _("Between 0 and 1. Empty: never hidden without a person."),
    )
    review_at = _threshold_field(
        _("Queue for review from confidence"),
        _("Between 0 and 1. Empty: never queued. Below both thresholds, the comment is kept."),
    )
    dsa_category_specification = forms.MultipleChoiceField(
        label=_("DSA category specification"),
        required=False,
        help_text=_(
            "Keywords of the DSA Transparency Database; choose those of the DSA category above "
            "(Ctrl or Cmd + click to choose several)."
        ),
        widget=forms.SelectMultiple(attrs={"size": "8"}),
    )

    class Meta:
        model = Category
        # Every copied field but the position, which the list order sets.
        fields = [name for name in CATEGORY_FIELDS if name != "position"]
        widgets = {
            "clause_fr": forms.Textarea(attrs={"rows": 4, "lang": "fr"}),
            "clause_en": forms.Textarea(attrs={"rows": 4, "lang": "en"}),
            "name_fr": forms.TextInput(attrs={"lang": "fr"}),
            "name_en": forms.TextInput(attrs={"lang": "en"}),
        }
        help_texts = {
            "slug": _(
                "Lower-case letters, digits, hyphens and underscores. The detectors use the "
                "identifiers hate, terrorism, threat, harassment, insult, defamation, "
                "personal_data, spam, disinformation, impersonation and off_topic."
            ),
            "clause_fr": _("The rule as citizens read it on the public page."),
            "legal_reference": _("For example: Code pénal, art. 421-2-5."),
            "dsa_decision_ground": _(
                "Illegal content needs a legal reference; otherwise the charter is the ground."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "dsa_category_specification", specification_choices())
        if self.instance.pk is not None:
            # Detectors and rules name the category by its identifier: it stays.
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = _("The identifier of a category cannot change.")

    def section(self, *names: str) -> list[forms.BoundField]:
        return [self[name] for name in names]

    def text_fields(self) -> list[forms.BoundField]:
        return self.section(
            "slug", "name_fr", "name_en", "clause_fr", "clause_en", "legal_reference"
        )

    def action_fields(self) -> list[forms.BoundField]:
        return self.section("severity", "hide_at", "review_at", "auto_delete", "shadow", "enabled")

    def dsa_fields(self) -> list[forms.BoundField]:
        return self.section(
            "dsa_decision_ground",
            "dsa_category",
            "dsa_category_specification",
            "dsa_category_specification_other",
        )

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class RuleForm(forms.ModelForm[RuleEntry]):
    category = forms.ChoiceField(label=_("Category"))
    language = forms.ChoiceField(label=_("Language"), choices=RULE_LANGUAGES)

    class Meta:
        model = RuleEntry
        fields = ["category", "language", "kind", "pattern", "weight", "note", "enabled"]
        widgets = {"weight": forms.NumberInput(attrs={"step": "0.05", "min": "0.01", "max": "1"})}
        help_texts = {
            "pattern": _(
                "A keyword (one word), a phrase, a regular expression (Python syntax) or a "
                "domain name such as example.org."
            ),
        }

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "category", categories)
        language = getattr(self.instance, "language", "")
        if language and language not in dict(RULE_LANGUAGES):
            set_choices(self, "language", [*RULE_LANGUAGES, (language, language)])

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class BulkRuleForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"))
    language = forms.ChoiceField(label=_("Language"), choices=RULE_LANGUAGES)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleEntry.Kind.choices)
    patterns = forms.CharField(
        label=_("Patterns, one per line"),
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=_(
            "Paste a list: one keyword, phrase, regular expression or domain per line. Lines "
            "already in the list are skipped; nothing is added if a line is invalid."
        ),
    )
    weight = forms.FloatField(
        label=_("Weight"),
        initial=1.0,
        min_value=0.01,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05", "min": "0.01", "max": "1"}),
        help_text=_("Confidence given by a match, from 0.01 to 1."),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "category", categories)

    def clean_patterns(self) -> list[str]:
        from beffroi.charter.services import split_patterns

        patterns = split_patterns(self.cleaned_data["patterns"])
        if not patterns:
            raise forms.ValidationError(_("Give at least one pattern."))
        if len(patterns) > MAX_BULK_PATTERNS:
            raise forms.ValidationError(
                _("At most %(limit)d lines at once.") % {"limit": MAX_BULK_PATTERNS}
            )
        return patterns


class RuleFilterForm(forms.Form):
    q = forms.CharField(label=_("Pattern contains"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *RuleEntry.Kind.choices]
    )

    def __init__(
        self, *args: Any, categories: list[tuple[str, str]], languages: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "category", [("", _("All")), *categories])
        set_choices(self, "language", [("", _("All")), *[(lang, lang) for lang in languages]])


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Charter file (YAML)"),
        help_text=_("A .yaml or .yml file exported by Beffroi, 1 MB at most."),
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if PurePath(upload.name or "").suffix.lower() not in {".yaml", ".yml"}:
            raise forms.ValidationError(_("Unsupported file type: use a .yaml or .yml file."))
        if upload.size > MAX_YAML_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload


class DiffForm(forms.Form):
    old = forms.TypedChoiceField(label=_("From version"), coerce=int)
    new = forms.TypedChoiceField(label=_("To version"), coerce=int)

    def __init__(self, *args: Any, numbers: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(n, str(n)) for n in numbers]
        set_choices(self, "old", choices)
        set_choices(self, "new", choices)
