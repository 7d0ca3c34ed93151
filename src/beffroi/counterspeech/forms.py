"""The counter-speech library's forms: an entry (its fields, its texts per language, its
sources one per line), the decisions on it, a file to import and the sharing settings.

The forms only read what a person typed into :class:`~beffroi.counterspeech.validation.EntryData`;
the rules are the services' (:func:`beffroi.counterspeech.validation.check`): their problems
are put back on the fields they name (:func:`show_problems`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from beffroi.counterspeech import io
from beffroi.counterspeech.models import (
    STRATEGY_HELP,
    Entry,
    Licence,
    Strategy,
    Target,
    Tone,
)
from beffroi.counterspeech.validation import MAX_TITLE, EntryData, Problem, SourceData
from beffroi.items.filtersets import DateInput
from beffroi.items.models import Item
from beffroi.veille.models import CheckedClaim, Narrative

#: Empty language forms offered below the texts written (a person adds one at a time more).
EXTRA_LANGUAGES = 1
MAX_LANGUAGES = 30


def strategy_choices() -> list[tuple[str, str]]:
    """Each strategy with its one line of help, so that the choice says what it means."""
    return [
        (value, f"{label} — {STRATEGY_HELP[Strategy(value)]}") for value, label in Strategy.choices
    ]


class EntryForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("For the library's lists; never sent.")
    )
    strategy = forms.ChoiceField(label=_("Strategy"), widget=forms.RadioSelect)
    tone = forms.ChoiceField(label=_("Tone"), choices=Tone.choices, initial=Tone.CALM)
    targets = forms.MultipleChoiceField(
        label=_("Targeted groups"),
        choices=Target.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The groups targeted by the hate this entry answers."),
    )
    topics = forms.CharField(
        label=_("Topics"),
        required=False,
        max_length=2000,
        help_text=_("Separated by commas: water, elections…"),
    )
    licence = forms.ChoiceField(
        label=_("Licence"),
        choices=Licence.choices,
        initial=Licence.ALL_RIGHTS_RESERVED,
        help_text=_("Under which terms the organizations that read this entry may reuse it."),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=DateInput())
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("After this day the entry is no longer suggested (a figure that dates)."),
    )
    sources = forms.CharField(
        label=_("Sources"),
        required=False,
        max_length=30000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: the address, then after a space the page's title."),
    )
    narratives = forms.ModelMultipleChoiceField(
        label=_("Narratives"),
        queryset=Narrative.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    claims = forms.ModelMultipleChoiceField(
        label=_("Checked claims"),
        queryset=CheckedClaim.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=_("Why this change"),
        required=False,
        max_length=2000,
        help_text=_("Kept in the entry's history."),
    )

    def __init__(
        self,
        *args: Any,
        narratives: QuerySet[Narrative],
        claims: QuerySet[CheckedClaim],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["strategy"].choices = strategy_choices()  # type: ignore[attr-defined]
        self.fields["narratives"].queryset = narratives  # type: ignore[attr-defined]
        self.fields["claims"].queryset = claims  # type: ignore[attr-defined]

    def topic_list(self) -> list[str]:
        raw = self.cleaned_data.get("topics") or ""
        return [topic.strip() for topic in raw.split(",") if topic.strip()]

    def source_list(self) -> list[SourceData]:
        sources = []
        for line in (self.cleaned_data.get("sources") or "").splitlines():
            url, _space, title = line.strip().partition(" ")
            if url:
                sources.append(SourceData(url=url, title=title.strip()))
        return sources


class TextForm(forms.Form):
    language = forms.CharField(
        label=_("Language"),
        max_length=8,
        required=False,
        help_text=_("Its ISO 639-1 code: fr, en, ar…"),
    )
    text = forms.CharField(
        label=_("Text"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class BaseTextFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The texts, with the problems of the texts as a whole (none written…) said above them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.text_problems: list[str] = []


TextFormSet = forms.formset_factory(
    TextForm,
    formset=BaseTextFormSet,
    extra=EXTRA_LANGUAGES,
    max_num=MAX_LANGUAGES,
    validate_max=True,
)


def entry_initial(entry: Entry) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The form's and the texts' initial values from a stored entry."""
    initial = {
        "title": entry.title,
        "strategy": entry.strategy,
        "tone": entry.tone,
        "targets": list(entry.targets),
        "topics": ", ".join(entry.topics),
        "licence": entry.licence,
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        "sources": "\n".join(
            f"{source.url} {source.title}".strip() for source in entry.sources.all()
        ),
        "narratives": list(entry.narratives.all()),
        "claims": list(entry.claims.all()),
    }
    texts = [{"language": text.language, "text": text.text} for text in entry.texts.all()]
    return initial, texts


def prefilled_initial(
    claim: CheckedClaim | None = None,
    item: Item | None = None,
    narrative: Narrative | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A new entry's initial values from what it answers, each already fetched among the
    organization's own: a checked claim (linked, its statement the title, facts the strategy,
    its fact-check the source), an item (its text and language: the veille's rebuttal flow
    gives the organization's own post) and a narrative (linked)."""
    initial: dict[str, Any] = {}
    texts: list[dict[str, str]] = []
    if claim is not None:
        initial["title"] = Truncator(" ".join(claim.statement.split())).chars(MAX_TITLE)
        initial["strategy"] = Strategy.FACTS
        initial["claims"] = [claim]
        if claim.url:
            initial["sources"] = f"{claim.url} {claim.title or claim.source}".strip()
    if item is not None:
        texts.append({"language": item.language, "text": item.text})
    if narrative is not None:
        initial["narratives"] = [narrative]
    return initial, texts


def entry_data(form: EntryForm, texts: Any, key: str = "") -> EntryData:
    """What the person wrote, for the services to check (both forms valid)."""
    data = form.cleaned_data
    written = [
        ((text.cleaned_data.get("language") or "").strip(), text.cleaned_data.get("text") or "")
        for text in texts.forms
        if (text.cleaned_data.get("language") or "").strip()
        or (text.cleaned_data.get("text") or "").strip()
    ]
    return EntryData(
        strategy=data["strategy"],
        texts=written,
        title=data.get("title") or "",
        tone=data.get("tone") or Tone.CALM,
        targets=list(data.get("targets") or []),
        topics=form.topic_list(),
        licence=data.get("licence") or Licence.ALL_RIGHTS_RESERVED,
        valid_from=data.get("valid_from"),
        valid_until=data.get("valid_until"),
        sources=form.source_list(),
        narratives=list(data.get("narratives") or []),
        claims=list(data.get("claims") or []),
        key=key,
    )


def show_problems(form: EntryForm, texts: Any, problems: Sequence[Problem], message: str) -> None:
    """The services' problems on the fields they name: a text's on its language's form, the
    texts' as a whole above them, any other on the form."""
    if not problems:
        form.add_error(None, message)
        return
    by_language = {
        (text.cleaned_data.get("language") or "").strip().lower(): text
        for text in texts.forms
        if hasattr(text, "cleaned_data")
    }
    for problem in problems:
        if problem.field.startswith("text_"):
            target = by_language.get(problem.field.removeprefix("text_"))
            if target is not None:
                target.add_error("text", problem.message)
            else:
                texts.text_problems.append(problem.message)
        elif problem.field == "texts":
            texts.text_problems.append(problem.message)
        elif problem.field in form.fields:
            form.add_error(problem.field, problem.message)
        else:
            form.add_error(None, problem.message)


class ApproveForm(forms.Form):
    seen_hash = forms.CharField(widget=forms.HiddenInput)


class SendBackForm(forms.Form):
    comment = forms.CharField(
        label=_("What the entry needs"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Said to the author: the entry goes back to them as a draft."),
    )


class RetireForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is retired"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV or JSON, as the library's export writes it."),
    )
    submit_for_approval = forms.BooleanField(
        label=_("Submit the imported entries for approval"), required=False
    )

    def file_format(self) -> str:
        name = self.cleaned_data["file"].name.lower()
        return io.JSON if name.endswith(".json") else io.CSV


class PublishForm(forms.Form):
    public_name = forms.CharField(
        label=_("Public name"),
        max_length=200,
        help_text=_("How the organizations that subscribe see this library."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SubscribeForm(forms.Form):
    publisher = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DraftingSettingsForm(forms.Form):
    """Drafting by a language model: off by default; the key is never shown back."""

    enabled = forms.BooleanField(
        label=_("Draft replies with a language model"),
        required=False,
        help_text=_(
            "Off by default. When on, the text of the post and of the chosen entries and their "
            "sources is sent to the endpoint below."
        ),
    )
    endpoint = forms.CharField(
        label=_("Endpoint address"),
        max_length=500,
        required=False,
        help_text=_(
            "An OpenAI-compatible address, ending in /v1: http://127.0.0.1:8080/v1 for "
            "llama.cpp, http://127.0.0.1:8000/v1 for vLLM, http://127.0.0.1:11434/v1 for "
            "Ollama, or a provider's."
        ),
    )
    model = forms.CharField(
        label=_("Model"),
        max_length=200,
        required=False,
        help_text=_("Its name as the endpoint knows it."),
    )
    api_key = forms.CharField(
        label=_("API key"),
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("None for a local server without one. Leave empty to keep the stored key."),
    )
    clear_api_key = forms.BooleanField(label=_("Remove the stored key"), required=False)
    max_characters = forms.IntegerField(
        label=_("Longest draft, in characters"),
        min_value=100,
        max_value=5000,
        initial=500,
    )


class EntryKeysField(forms.Field):
    """The keys of the chosen entries, one value each (``entries=…&entries=…``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return [str(key).strip() for key in values if str(key).strip()]


class DraftForm(forms.Form):
    entries = EntryKeysField(label=_("Entries"))
    language = forms.CharField(label=_("Language"), max_length=8, required=False)
