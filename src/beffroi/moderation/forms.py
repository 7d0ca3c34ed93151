"""Forms of the moderation pages. The services check the rules; these check the input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from beffroi.items.filtersets import DateInput
from beffroi.moderation.models import Appeal, Case, Decision
from beffroi.moderation.services import PERSON_ACTIONS

#: Actions offered on a selection of cases in the queue.
BULK_ACTIONS = (Decision.Action.HIDE, Decision.Action.KEEP, Decision.Action.DELETE)

#: Suggestions for "received via" (any text is accepted).
RECEIVED_VIA_SUGGESTIONS = (
    _("Email"),
    _("Letter"),
    _("Telephone"),
    _("At the front desk"),
    _("Private message on the platform"),
    _("Contact form"),
)


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(a.value, a.label) for a in Decision.Action if a in PERSON_ACTIONS],
    )
    category = forms.ChoiceField(label=_("Charter category"), required=False, choices=[])
    note = forms.CharField(
        label=_("Note (kept with the decision)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reply_text = forms.CharField(
        label=_("Reply to the author"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args: Any, categories: list[tuple[str, str]] | None = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        category = cast(forms.ChoiceField, self.fields["category"])
        category.choices = [("", _("As proposed")), *(categories or [])]


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), choices=[(a.value, a.label) for a in BULK_ACTIONS]
    )
    cases = forms.ModelMultipleChoiceField(
        label=_("Cases"),
        queryset=Case.objects.none(),
        error_messages={"required": _("Select at least one case.")},
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args: Any, cases: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        if cases is not None:
            self.fields["cases"].queryset = cases  # type: ignore[attr-defined]


class AppealForm(forms.Form):
    statement = forms.CharField(
        label=_("What the author says"),
        help_text=_("Their words, as close as possible to what they sent."),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    received_via = forms.CharField(
        label=_("Received via"),
        required=False,
        max_length=100,
        help_text=_("Email, letter, telephone, front desk…"),
        widget=forms.TextInput(attrs={"list": "received-via-suggestions", "autocomplete": "off"}),
    )


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Appeal.Outcome.UPHELD.value, _("Uphold the decision (the item stays restricted)")),
            (Appeal.Outcome.REVERSED.value, _("Reverse the decision (restore the item)")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Reasons"),
        help_text=_("Recorded with the outcome; the author may be told them."),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class StatementsForm(forms.Form):
    """Date range of a DSA statements export (the date the decision was applied)."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class EscalationForm(forms.Form):
    """Whom a case is escalated to: the administrators (empty) or a member who may decide.
    Only others are offered; the person's own id is read too, so that the service refuses
    it with its sentence rather than the form with a generic one."""

    escalate_to = forms.CharField(label=_("Escalate to"), required=False)

    def __init__(
        self, *args: Any, members: Sequence[Any] = (), user: Any = None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self._users = {str(m.user_id): m.user for m in members}
        if user is not None:
            self._users.setdefault(str(user.pk), user)
        choices = [("", _("The administrators"))] + [
            (
                str(m.user_id),
                f"{m.user.get_full_name() or m.user.get_username()} ({m.get_role_display()})",
            )
            for m in members
        ]
        self.fields["escalate_to"].widget = forms.Select(
            choices=choices, attrs={"aria-describedby": "escalate-help"}
        )

    def clean_escalate_to(self) -> Any | None:
        value = self.cleaned_data.get("escalate_to") or ""
        if not value:
            return None
        if value not in self._users:
            raise forms.ValidationError(_("Choose a member of the organization."))
        return self._users[value]


class ReplyForm(forms.Form):
    """A public reply to an author, in the organization's name (the publisher role)."""

    reply_text = forms.CharField(
        label=_("Reply to the author"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("A reply needs a text.")},
    )
