"""The desk's forms: every choice limited to the request's organization."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from beffroi.connectors import webhook
from beffroi.connectors.base import ConfigurationError
from beffroi.conversations.models import (
    Conversation,
    RequestSystem,
    RoutingRule,
    SavedReply,
    Team,
)
from beffroi.organizations.models import Organization
from beffroi.sources.redaction import hidden_left, redact_addresses, restore


def _members(organization: Organization) -> Any:
    from beffroi.conversations.services import members

    return members(organization)


class AssignForm(forms.Form):
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Assign to"), queryset=None, required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _members(organization)  # type: ignore[attr-defined]


class TeamForm(forms.Form):
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False, empty_label=_("No team")
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)  # type: ignore[attr-defined]


class StateForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=Conversation.State.choices)


class LabelsForm(forms.Form):
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        max_length=400,
        help_text=_("Separated by commas."),
    )

    def clean_labels(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["labels"].split(",") if part.strip()]


class SnoozeForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Snooze until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by the team only. @name notifies a member."),
    )


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5, "data-shortcut-reply": ""}),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    private = forms.BooleanField(label=_("Answer in private"), required=False)
    resolve = forms.BooleanField(label=_("Resolve once posted"), required=False)
    saved_reply = forms.IntegerField(widget=forms.HiddenInput, required=False)
    #: The library text the reply began as (``core.drafts``), counted as a use once recorded.
    drafted_from = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)


class BulkForm(forms.Form):
    ACTIONS = (
        ("assign", _("Assign")),
        ("team", _("Give to a team")),
        ("label", _("Add a label")),
        ("close", _("Close")),
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    conversations = forms.CharField(widget=forms.HiddenInput, required=False)
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Assign to"), queryset=None, required=False
    )
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False
    )
    label = forms.CharField(label=_("Label"), required=False, max_length=40)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _members(organization)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.for_org(organization)  # type: ignore[attr-defined]


class SavedReplyForm(forms.ModelForm[SavedReply]):
    class Meta:
        model = SavedReply
        fields = ["name", "language", "team", "text", "acknowledgement"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "text": _(
                "Variables: {prénom}, {service}, {délai}, {lien}, {date} (of receipt), "
                "{contact} (the service's e-mail)."
            ),
            "acknowledgement": _(
                "An acknowledgement of receipt must give the date of receipt, the service, how "
                "to reach it and the delay (CRPA L112-3, R112-5): {date}, {service}, {contact} "
                "and {délai}."
            ),
        }

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)  # type: ignore[attr-defined]


class TeamEditForm(forms.ModelForm[Team]):
    class Meta:
        model = Team
        fields = ["name", "slug", "email", "service_code", "always_open", "members", "leads"]
        widgets = {
            "members": forms.CheckboxSelectMultiple,
            "leads": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = _members(organization)
        self.fields["members"].queryset = people  # type: ignore[attr-defined]
        self.fields["leads"].queryset = people  # type: ignore[attr-defined]


class HandoffForm(forms.Form):
    system: forms.ModelChoiceField[RequestSystem] = forms.ModelChoiceField(
        label=_("Request system"), queryset=None
    )
    service_code = forms.CharField(
        label=_("Service code"),
        max_length=64,
        required=False,
        help_text=_("Empty: the team's service code."),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Empty: the citizen's message."),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = RequestSystem.objects.for_org(organization).filter(  # type: ignore[attr-defined]
            enabled=True
        )


class RequestSystemForm(forms.ModelForm[RequestSystem]):
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "For Open311 servers that ask for one. Stored encrypted, never shown again. "
            "Empty: keep the current key."
        ),
    )
    signing_secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Webhook: the receiving system's whsec_… secret, if it gave one. Empty: Beffroi "
            "makes one and shows it once (on a change: the current one is kept)."
        ),
    )
    new_secret = forms.BooleanField(
        label=_("Make a new signing secret"),
        required=False,
        help_text=_(
            "Webhook: the current secret stops working at once; give the new one to the "
            "receiving system."
        ),
    )

    # Declared for its scheme: an address typed without one is read as https.
    endpoint = forms.URLField(
        label=_("Address"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "For Open311, the API's base address (such as https://open311.ville.fr/v2); for "
            "a webhook, the address the requests are posted to (such as "
            "https://gru.ville.fr/hooks/beffroi)."
        ),
    )

    class Meta:
        model = RequestSystem
        fields = ["name", "kind", "endpoint", "jurisdiction_id", "email", "enabled"]
        help_texts = {
            "jurisdiction_id": _("Open311, when the server serves several towns."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The address is checked once its hidden parts are back (clean_endpoint).
        self.fields["endpoint"].validators = []
        if self.instance.pk and not self.is_bound:
            # Credentials in the address (user:password@, ?token=…) are not shown again; the
            # address comes back with them restored (clean_endpoint).
            self.initial["endpoint"] = redact_addresses(self.instance.endpoint)

    def clean_endpoint(self) -> str:
        endpoint = str(self.cleaned_data.get("endpoint") or "")
        stored = (
            RequestSystem.objects.filter(pk=self.instance.pk)
            .values_list("endpoint", flat=True)
            .first()
            if self.instance.pk
            else None
        )
        restored = str(restore({"endpoint": endpoint}, {"endpoint": stored or ""})["endpoint"])
        if hidden_left(restored):
            raise forms.ValidationError(
                _(
                    "Part of this address is hidden ([redacted]) and cannot be restored: type "
                    "the address in full again."
                )
            )
        if restored:
            URLValidator()(restored)
        return restored

    def clean_signing_secret(self) -> str:
        secret = str(self.cleaned_data.get("signing_secret") or "").strip()
        if secret and not webhook.is_valid_secret(secret):
            raise forms.ValidationError(
                _(
                    "A signing secret is whsec_ followed by base64 of %(low)d to %(high)d "
                    "bytes. Leave it empty to have one made."
                )
                % {"low": webhook.MIN_SECRET_BYTES, "high": webhook.MAX_SECRET_BYTES}
            )
        return secret

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, endpoint = data.get("kind"), str(data.get("endpoint") or "")
        if "endpoint" in self.errors:  # already said what is wrong with it
            return data
        if kind == RequestSystem.Kind.OPEN311 and not endpoint:
            self.add_error("endpoint", _("An Open311 system needs its address."))
        if kind == RequestSystem.Kind.WEBHOOK:
            if not endpoint:
                self.add_error("endpoint", _("A webhook needs the address to post to."))
            else:
                try:
                    webhook.address(endpoint)
                except ConfigurationError:
                    self.add_error(
                        "endpoint",
                        _(
                            "A webhook's address must start with https:// (plain http only "
                            "towards an internal host the operator allowed), without #."
                        ),
                    )
        return data


class RoutingRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=1000,
        help_text=_("Any of them, separated by commas (whole words, accents and case ignored)."),
    )
    query = forms.CharField(
        label=_("Query"),
        required=False,
        max_length=2000,
        help_text=_('As in watches: words, "exact phrases", OR, -word, #hashtag, from:, lang:.'),
    )
    platforms = forms.CharField(
        label=_("Platforms"),
        required=False,
        max_length=200,
        help_text=_("Empty: every platform. Else separated by commas (facebook, instagram…)."),
    )
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(label=_("Team"), queryset=None)
    then = forms.ChoiceField(label=_("Then"), choices=RoutingRule.Then.choices)
    position = forms.IntegerField(label=_("Order"), required=False, min_value=0)
    shadow = forms.BooleanField(
        label=_("In shadow (tried and counted, not applied)"), required=False, initial=True
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_org(organization)  # type: ignore[attr-defined]

    def clean_keywords(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["keywords"].split(",") if part.strip()]

    def clean_platforms(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["platforms"].split(",") if part.strip()]


def rule_initial(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "keywords": ", ".join(rule.keywords or []),
        "query": rule.query,
        "platforms": ", ".join(rule.platforms or []),
        "team": rule.team_id,
        "then": rule.then,
        "position": rule.position,
        "shadow": rule.shadow,
        "enabled": rule.enabled,
    }
