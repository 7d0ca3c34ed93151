"""The briefs' forms: a brief (its posts one per line, its do's and don'ts one per line, the
entries it suggests), the partners it is sent to, an answer declared by hand, the
partnerships and links, and the signed files.

The forms read what a person typed; the rules are the services'
(:mod:`beffroi.briefs.services`): their refusals are put back on the form.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from beffroi.briefs.models import Brief, BriefPost, ExternalPartner
from beffroi.briefs.services import BriefData, PostData
from beffroi.counterspeech.models import Entry
from beffroi.items.filtersets import DateInput
from beffroi.items.models import Item
from beffroi.organizations.context import OrgContext
from beffroi.organizations.models import Organization
from beffroi.veille.models import Campaign, Narrative

#: A line that names an item of the inbox: its number, ``#`` before it or not.
ITEM_NUMBER = re.compile(r"^#?(\d{1,18})$")
#: A signed file is small: more is not read.
MAX_FILE_BYTES = 2 * 1024 * 1024


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class BriefForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is going on, and what we ask of our partners."),
    )
    narrative = forms.ModelChoiceField(
        label=_("Narrative"), queryset=Narrative.objects.none(), required=False
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.none(), required=False
    )
    subject_posts = forms.BooleanField(
        label=_("Add the latest posts of the narrative or the campaign"),
        required=False,
        help_text=_("Twenty at most, newest first, besides those listed below."),
    )
    posts = forms.CharField(
        label=_("Posts to answer"),
        required=False,
        max_length=100000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One per line: the number of an item of the inbox (#123), or the post's address."
        ),
    )
    dos = forms.CharField(
        label=_("Do's"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line."),
    )
    donts = forms.CharField(
        label=_("Don'ts"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line."),
    )
    entries = forms.ModelMultipleChoiceField(
        label=_("Suggested counter-speech entries"),
        queryset=Entry.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Approved entries the organization reads: copied into the brief."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("After this day the partners are no longer asked to answer."),
    )

    def __init__(
        self,
        *args: Any,
        narratives: QuerySet[Narrative],
        campaigns: QuerySet[Campaign],
        entries: QuerySet[Entry],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        narrative: Any = self.fields["narrative"]
        narrative.queryset = narratives
        narrative.label_from_instance = lambda n: n.label
        campaign: Any = self.fields["campaign"]
        campaign.queryset = campaigns
        suggested: Any = self.fields["entries"]
        suggested.queryset = entries

    def item_numbers(self) -> list[int]:
        return [
            int(found[1])
            for line in _lines(self.cleaned_data.get("posts") or "")
            if (found := ITEM_NUMBER.match(line))
        ]

    def data_with(self, items: dict[int, Item]) -> BriefData | None:
        """What the person wrote, the inbox's numbers read as ``items``; None (and an error
        on the field) for a number that is not one of them."""
        posts: list[PostData] = []
        for line in _lines(self.cleaned_data.get("posts") or ""):
            found = ITEM_NUMBER.match(line)
            if found is None:
                posts.append(PostData(url=line))
                continue
            item = items.get(int(found[1]))
            if item is None:
                self.add_error(
                    "posts", _("There is no item #%(number)s in the inbox.") % {"number": found[1]}
                )
                return None
            posts.append(PostData.of_item(item))
        data = self.cleaned_data
        return BriefData(
            title=data["title"],
            summary=data.get("summary") or "",
            narrative=data.get("narrative"),
            campaign=data.get("campaign"),
            dos=_lines(data.get("dos") or ""),
            donts=_lines(data.get("donts") or ""),
            valid_until=data.get("valid_until"),
            posts=posts,
            entries=list(data.get("entries") or []),
            subject_posts=bool(data.get("subject_posts")),
        )


def brief_initial(brief: Brief) -> dict[str, Any]:
    """The form as the brief stands: its posts by their inbox number where they have one."""
    lines = [f"#{post.item_id}" if post.item_id else post.url for post in brief.posts.all()]
    return {
        "title": brief.title,
        "summary": brief.summary,
        "narrative": brief.narrative_id,
        "campaign": brief.campaign_id,
        "posts": "\n".join(line for line in lines if line),
        "dos": "\n".join(brief.dos),
        "donts": "\n".join(brief.donts),
        "entries": [e.entry_id for e in brief.entries.all() if e.entry_id],
        "valid_until": brief.valid_until,
    }


def scoped_form(ctx: OrgContext, data: Any = None, initial: Any = None) -> BriefForm:
    """The brief form with the organization's narratives, campaigns and readable entries."""
    from beffroi.counterspeech.services import visible_entries

    return BriefForm(
        data,
        initial=initial,
        narratives=ctx.scoped(Narrative).order_by("-last_seen", "-id"),
        campaigns=ctx.scoped(Campaign).order_by("-last_at", "-id"),
        entries=visible_entries(ctx.organization).suggestible().order_by("title", "id"),
    )


class SendForm(forms.Form):
    partners = forms.ModelMultipleChoiceField(
        label=_("Partners"),
        queryset=Organization.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The organizations that accepted to receive our briefs."),
    )

    def __init__(self, *args: Any, partners: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["partners"]
        field.queryset = partners


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (said to the sender)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeclareForm(forms.Form):
    post = forms.ModelChoiceField(label=_("Post answered"), queryset=BriefPost.objects.none())
    url = forms.URLField(
        label=_("Address of our answer"),
        max_length=1000,
        assume_scheme="https",
        help_text=_("The link to the reply or the post, as the platform shows it."),
    )

    def __init__(self, *args: Any, posts: QuerySet[BriefPost], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["post"]
        field.queryset = posts
        field.label_from_instance = _post_label

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError(_("Give the address of the answer (http or https)."))
        return url


def _post_label(post: BriefPost) -> str:
    who = f"@{post.author_handle.lstrip('@')} — " if post.author_handle else ""
    text = post.excerpt[:80] or post.url or post.platform_id
    return f"{post.position + 1}. {who}{text}"


class ProposeForm(forms.Form):
    partner = forms.SlugField(
        label=_("The partner organization's address"),
        max_length=64,
        help_text=_("The name in its pages' addresses (/o/<address>/), as it gave it to you."),
    )


class OrganizationChoiceForm(forms.Form):
    """An organization named by its id (a partnership's other side)."""

    organization = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class LinkCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Partner's name"),
        max_length=200,
        help_text=_("The organization in the other Beffroi, as you call it."),
    )


class LinkJoinForm(LinkCreateForm):
    code = forms.CharField(
        label=_("Link code"),
        max_length=200,
        help_text=_("The code the partner gave you (it starts with “bfl1.”)."),
        widget=forms.PasswordInput(render_value=False),
    )


class LinkChoiceForm(forms.Form):
    link = forms.ModelChoiceField(
        label=_("Partner in another Beffroi"), queryset=ExternalPartner.objects.none()
    )

    def __init__(self, *args: Any, links: QuerySet[ExternalPartner], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["link"]
        field.queryset = links


class FileForm(forms.Form):
    file = forms.FileField(label=_("Signed file"), help_text=_("The JSON file the partner sent."))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("This file is too large."))
        return upload
