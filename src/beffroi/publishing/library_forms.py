"""The forms of the media library, the approval workflows, the publishing settings and the
external approval page. They read what a person typed; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beffroi.organizations.models import Organization
from beffroi.publishing import media
from beffroi.publishing.models import ApprovalStep, ApprovalWorkflow, MediaAsset, PublishingSettings
from beffroi.publishing.workflows import StepInput, eligible_approvers
from beffroi.sources.models import Source

ACCEPTED_TYPES = "image/jpeg,image/png,image/gif,image/webp,video/mp4,video/quicktime,video/webm"


class MediaUploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    alt_text = forms.CharField(
        label=_("Description (alt text)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for images: what the image shows, for people who cannot see it."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("To find it in the library. Empty: the file's name."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ACCEPTED_TYPES
        # The library's own limits: the web server lets a request that large through on the
        # upload address (web/request_limits.py).
        self.fields["file"].help_text = _(
            "Images in JPEG, PNG, GIF or WebP, %(image)s MB at most; videos in MP4, MOV or "
            "WebM, %(video)s MB at most."
        ) % {
            "image": media.IMAGE_MAX_BYTES // media.MEGABYTE,
            "video": media.VIDEO_MAX_BYTES // media.MEGABYTE,
        }


class MediaEditForm(forms.ModelForm[MediaAsset]):
    class Meta:
        model = MediaAsset
        fields = ["name", "alt_text"]
        widgets = {"alt_text": forms.Textarea(attrs={"rows": 3})}


class WorkflowForm(forms.ModelForm[ApprovalWorkflow]):
    class Meta:
        model = ApprovalWorkflow
        fields = ["name", "source", "for_posts", "for_replies", "for_counter_speech"]

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.fields["source"]
        source.queryset = Source.objects.for_org(organization)  # type: ignore[attr-defined]
        source.empty_label = _("The organization's default")  # type: ignore[attr-defined]


class StepForm(forms.Form):
    name = forms.CharField(label=_("Name of the step"), max_length=120)
    rule = forms.ChoiceField(
        label=_("Who approves"), choices=ApprovalStep.Rule.choices, initial=ApprovalStep.Rule.ANY
    )
    required = forms.IntegerField(
        label=_("How many"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("For 'a number of them'."),
    )
    approvers: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("Approvers"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members who are approvers, publishers or administrators."),
    )
    allow_external = forms.BooleanField(
        label=_("External approval link"),
        required=False,
        help_text=_(
            "Someone without an account (an elected official) may approve this step "
            "through a signed link that expires."
        ),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["approvers"].queryset = eligible_approvers(organization)  # type: ignore[attr-defined]

    def step(self) -> StepInput:
        data = self.cleaned_data
        return StepInput(
            name=data["name"],
            rule=data["rule"],
            required=data["required"],
            approvers=list(data["approvers"]),
            allow_external=data["allow_external"],
        )


StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True, can_order=True)


def step_initial(workflow: ApprovalWorkflow) -> list[dict[str, Any]]:
    """The steps of a stored workflow, as the step forms show them."""
    return [
        {
            "name": step.name,
            "rule": step.rule,
            "required": step.required,
            "approvers": list(step.approvers.all()),
            "allow_external": step.allow_external,
            "ORDER": step.position,
        }
        for step in workflow.steps.order_by("position", "id").prefetch_related("approvers")
    ]


class SettingsForm(forms.ModelForm[PublishingSettings]):
    class Meta:
        model = PublishingSettings
        fields = ["own_domains", "utm_source", "utm_medium", "utm_campaign", "approval_hours"]
        widgets = {"own_domains": forms.Textarea(attrs={"rows": 4})}
        # The parameters' own names, as analytics tools show them.
        labels = {
            "utm_source": _("Source of the visits (utm_source)"),
            "utm_medium": _("Medium (utm_medium)"),
            "utm_campaign": _("Campaign (utm_campaign)"),
        }


class ExternalDecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Read by the author: say what to change when you send the post back."),
    )
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Send back"))],
        widget=forms.HiddenInput,
    )
