"""Forms of the organization settings pages (details, members, audit log filters)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from beffroi.audit.actions import sentence
from beffroi.audit.models import AuditEvent
from beffroi.core.forms import set_choices
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Role


class OrganizationForm(forms.ModelForm[Organization]):
    class Meta:
        model = Organization
        fields = ["name", "kind", "language"]
        widgets = {"language": forms.TextInput(attrs={"size": 8})}
        help_texts = {
            "language": _("Code of the language most of your audience writes in (e.g. fr, en).")
        }


class InviteMemberForm(forms.Form):
    """Invite someone who already has an account here; they join once they accept."""

    identifier = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class CreateMemberForm(forms.Form):
    """Create an account (with a temporary password) and add it to the organization."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        username = username.strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("This username is taken. To invite this person, use the form above.")
            )
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *AuditEvent.Channel.choices],
    )
    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, actions: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        named = sorted(((a, sentence(a)) for a in actions or []), key=lambda pair: pair[1])
        set_choices(self, "action", [("", _("All actions")), *named])
