"""The publishing desk's post pages: the list (filters, CSV), the composer with its live checks,
and a post's page (its variants and what each platform did, its approval, its comments, its
history, and the actions its state allows).

Each view parses, calls one service and renders; the rules live in ``services``, the
networks' limits in the connectors (``limits``): nothing is counted here or in the browser.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from beffroi.audit.models import AuditEvent
from beffroi.connectors.post_limits import DraftVariant, PostLimits, count_length

# One sentence per platform reason, shared with the answering desk's replies.
from beffroi.conversations.display import reason_sentence as platform_reason
from beffroi.core.drafts import resolve_draft
from beffroi.core.exports import stream_csv
from beffroi.items.models import Item
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability
from beffroi.publishing import approval, limits, services
from beffroi.publishing.approval import may_decide
from beffroi.publishing.filtersets import PostFilter
from beffroi.publishing.forms import (
    CommentForm,
    ComposeForm,
    ConfirmForm,
    DecideForm,
    ExternalLinkForm,
    ScheduleForm,
    SuspendForm,
    VariantForm,
    compose_initial,
    publishable_sources,
    variant_forms,
)
from beffroi.publishing.models import MediaAsset, Post, PostVariant
from beffroi.publishing.reconciling import REASON_NOT_ON_ACCOUNT
from beffroi.publishing.sending import REASON_INTERRUPTED, REASON_MANUAL, REASON_PAUSED
from beffroi.sources import failures
from beffroi.sources.forms import platform_label
from beffroi.sources.models import Source

PAGE_SIZE = 50
State = Post.State
#: Bytes read from a stored file at a time while the package is streamed.
PACKAGE_CHUNK = 64 * 1024


# --- what a page shows -------------------------------------------------------------------------


@dataclass
class AccountCheck:
    """One account's variant against its network: the count the network's way, every
    problem in the reader's language, and what a preview card shows."""

    source: Source
    network: str
    text: str
    title: str = ""
    link: str = ""
    first_comment: str = ""
    assets: list[MediaAsset] = field(default_factory=list)
    length: int | None = None
    max_length: int | None = None
    problems: list[str] = field(default_factory=list)
    #: Problems of one media, by its place in the variant (0 first): shown beside it.
    media_problems: dict[int, list[str]] = field(default_factory=dict)

    @property
    def over(self) -> bool:
        return (
            self.length is not None
            and self.max_length is not None
            and (self.length > self.max_length)
        )

    @property
    def link_href(self) -> str:
        """The link as an address to follow: only http(s) (it is being typed)."""
        return self.link if self.link.startswith(("https://", "http://")) else ""

    @property
    def image(self) -> MediaAsset | None:
        """The first image, shown on the preview card (as most networks do)."""
        return next((asset for asset in self.assets if asset.kind != MediaAsset.Kind.VIDEO), None)


def check_account(source: Source, draft: DraftVariant, assets: list[MediaAsset]) -> AccountCheck:
    network = platform_label(source.platform)
    found = AccountCheck(
        source=source,
        network=network,
        text=draft.text,
        title=draft.title,
        link=draft.link,
        first_comment=draft.first_comment,
        assets=assets,
    )
    rules: PostLimits | None = limits.limits_of(source.platform)
    if rules is None:
        return found
    found.length = count_length(draft.text, rules)
    found.max_length = (
        rules.caption_max_length
        if draft.media and rules.caption_max_length is not None
        else rules.max_length
    )
    for problem in limits.problems_of_draft(source.platform, draft):
        sentence = limits.say(problem)
        found.problems.append(sentence)
        index = problem.params.get("index")
        if isinstance(index, int):
            found.media_problems.setdefault(index, []).append(sentence)
    return found


def feedback(checks: list[AccountCheck]) -> dict[str, Any]:
    """What the checks and previews fragment shows."""
    return {"checks": checks, "problem_count": sum(len(check.problems) for check in checks)}


def _stored_checks(post: Post) -> list[AccountCheck]:
    """The checks of a post's stored variants (its page, and the composer before any
    typing)."""
    checks = []
    for variant in post.variants.select_related("source"):
        assets = [
            attached.media
            for attached in variant.variantmedia_set.select_related("media").order_by(
                "position", "id"
            )
        ]
        checks.append(check_account(variant.source, limits.draft_of(variant, assets), assets))
    return checks


def _form_checks(form: ComposeForm, variants: Sequence[VariantForm]) -> list[AccountCheck]:
    """The checks of what is being written, for the accounts ticked."""
    chosen = form.chosen_ids()
    main_text = form.written_main_text()
    return [
        check_account(variant.source, variant.draft(main_text), variant.chosen_assets())
        for variant in variants
        if variant.source.pk in chosen
    ]


@dataclass(frozen=True)
class Outcome:
    """What the platform did with a variant, said apart from the post's state."""

    badge: str
    sentence: str
    detail: str = ""
    #: A person checks the platform: confirm it is there, or send it again.
    unknown: bool = False
    retryable: bool = False
    reconnect: bool = False


def _why(reason: str) -> str:
    own = {
        failures.REASON_UPLOAD: _(
            "the account comes from a file import: there is no platform account to publish from"
        ),
        failures.REASON_NOT_FOUND: _("the platform did not find the account or its page"),
        REASON_MANUAL: _(
            "this network has no publishing interface: download the package and post it by hand"
        ),
        REASON_NOT_ON_ACCOUNT: _(
            "after the interrupted call, it was not found on the account, so the platform did "
            "not publish it"
        ),
    }
    return own.get(reason) or platform_reason(reason)


def outcome(variant: PostVariant) -> Outcome:
    platform = platform_label(variant.source.platform)
    states = PostVariant.State
    if variant.state == states.PUBLISHED:
        return Outcome("badge-ok", _("Published on %(platform)s.") % {"platform": platform})
    if variant.state == states.SIMULATED:
        return Outcome(
            "badge-info", _("Simulated: a demo account, nothing was sent to a platform.")
        )
    if variant.state == states.EXPORTED:
        return Outcome(
            "badge-warn",
            _(
                "%(platform)s has no publishing interface: download the package, post it by "
                "hand, then say it is posted."
            )
            % {"platform": platform},
            unknown=True,
        )
    if variant.state == states.FAILED:
        return Outcome(
            "badge-error",
            _("Not published: %(reason)s.") % {"reason": _why(variant.reason)},
            variant.detail,
            retryable=variant.reason not in (failures.REASON_UPLOAD, REASON_MANUAL),
            reconnect=variant.reason == failures.REASON_CREDENTIALS,
        )
    if variant.state == states.UNKNOWN and variant.check_at is not None:
        return Outcome(
            "badge-warn",
            _(
                "Sending was interrupted before %(platform)s answered: it may have been "
                "published. Beffroi looks for it on the account at %(time)s and sends it again "
                "only if it is not there. You may also check and confirm it."
            )
            % {
                "platform": platform,
                "time": date_format(timezone.localtime(variant.check_at), "TIME_FORMAT"),
            },
            variant.detail,
            unknown=True,
        )
    if variant.state == states.UNKNOWN:
        if variant.reason == REASON_INTERRUPTED:
            sentence = _(
                "Sending was interrupted while the platform was being asked: it may have been "
                "published. Check on %(platform)s, then confirm it or send it again."
            )
        else:
            sentence = _(
                "%(platform)s did not confirm the post (its answer was lost, or it failed while "
                "answering): it may have been published. Check on %(platform)s, then confirm it "
                "or send it again."
            )
        return Outcome(
            "badge-warn",
            sentence % {"platform": platform},
            variant.detail,
            unknown=True,
            retryable=True,
        )
    if variant.state == states.PUBLISHING:
        return Outcome("badge-warn", _("Sending to %(platform)s…") % {"platform": platform})
    if variant.reason == REASON_PAUSED:
        return Outcome("badge-warn", _("Held back by a pause: not sent."), variant.detail)
    if variant.reason:
        return Outcome(
            "badge-warn",
            _("Waiting to be sent again: %(reason)s.") % {"reason": _why(variant.reason)},
            variant.detail,
        )
    # The badge says it all ("Not sent yet").
    return Outcome("badge-info", "")


def state_sentence(post: Post) -> str:
    """Why the post is where it is, from its recorded reason's code where one is known (a
    person's words otherwise: a suspension's reason, a sender-back's comment)."""
    reason = post.state_reason
    if post.state == State.APPROVAL_EXPIRED:
        return _("It was not approved in time: it will not be published as it is.")
    if post.state == State.UNATTEMPTED:
        if reason == REASON_PAUSED:
            return _("Its time came during a pause: it was not sent.")
        return _("Its time came during a pause: it was not sent (%(reason)s).") % {"reason": reason}
    if post.state == State.SUSPENDED:
        return _("Suspended: %(reason)s") % {"reason": reason}
    if post.state == State.DRAFT and reason:
        return _("Sent back: %(comment)s") % {"comment": reason}
    return ""


@dataclass
class StepProgress:
    position: int
    name: str
    rule: str
    required: int
    approved_by: list[str]
    #: passed, current or waiting.
    status: str


def approval_progress(post: Post) -> list[StepProgress]:
    steps = approval.steps_for(post)
    reviewing = post.state == State.IN_REVIEW
    approved = post.approval_current
    progress = []
    for index, step in enumerate(steps):
        if approved or (reviewing and index < post.review_step):
            status = "passed"
        elif reviewing and index == post.review_step:
            status = "current"
        else:
            status = "waiting"
        progress.append(
            StepProgress(
                position=index + 1,
                name=step.name,
                rule=step.get_rule_display(),
                required=approval.required_count(step),
                approved_by=[given.who for given in approval.approvals_of_step(post, index)],
                status=status,
            )
        )
    return progress


def history(request: OrgRequest, post: Post) -> QuerySet[AuditEvent]:
    """The audit trail of this post (its own events: written, approved, published…)."""
    return (
        request.org.scoped(AuditEvent)
        .filter(object_type=Post._meta.label_lower, object_id=str(post.pk))
        .select_related("actor")
        .order_by("created_at", "id")
    )


# --- the list ----------------------------------------------------------------------------------

CSV_COLUMNS = [
    "id",
    "title",
    "kind",
    "state",
    "publish_at",
    "accounts",
    "platform_outcomes",
    "labels",
    "campaign",
    "author",
]


def _csv_rows(posts: Iterable[Post]) -> Iterator[list[Any]]:
    for post in posts:
        variants = list(post.variants.all())
        yield [
            post.pk,
            post.title,
            post.kind,
            post.state,
            post.scheduled_at,
            "; ".join(f"{v.source.name} ({v.source.platform})" for v in variants),
            "; ".join(
                f"{v.source.name}: {v.state}{' ' + v.url if v.url else ''}"
                f"{' (' + v.reason + ')' if v.reason else ''}"
                for v in variants
            ),
            ", ".join(label.name for label in post.labels.all()),
            post.campaign,
            post.author.get_username() if post.author else "",
        ]


@org_view(Capability.VIEW)
def post_list(request: OrgRequest) -> HttpResponse | StreamingHttpResponse:
    organization = request.org.organization
    posts = (
        request.org.scoped(Post)
        .select_related("author")
        .prefetch_related("variants__source", "labels")
    )
    filterset = PostFilter(request.GET or None, queryset=posts, request=request)
    found = filterset.qs
    if request.GET.get("format") == "csv":
        return stream_csv(CSV_COLUMNS, _csv_rows(found), f"posts-{organization.slug}", request)
    page: Any = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for post in page.object_list:
        variants = list(post.variants.all())
        rows.append(
            {
                "post": post,
                "accounts": [
                    (variant.source, platform_label(variant.source.platform))
                    for variant in variants
                ],
                # What the platforms did: only variants that were sent (or held back).
                "outcomes": [
                    (variant, outcome(variant))
                    for variant in variants
                    if variant.state != PostVariant.State.PENDING or variant.reason
                ],
            }
        )
    return render(
        request,
        "publishing/list.html",
        {
            "nav": "publishing",
            "filter": filterset,
            "page_obj": page,
            "rows": rows,
            "total": page.paginator.count,
            "can_publish": request.org.can(Capability.PUBLISH),
        },
    )


# --- the composer ------------------------------------------------------------------------------


def _composer(
    request: OrgRequest, post: Post | None
) -> tuple[ComposeForm, list[VariantForm], list[Source]]:
    organization = request.org.organization
    sources = publishable_sources(organization)
    if post is not None:
        # An account chosen before (since disconnected or made read-only) stays shown.
        offered = {source.pk for source in sources}
        sources += [
            variant.source
            for variant in post.variants.select_related("source")
            if variant.source_id not in offered
        ]
    initial, per_source = compose_initial(post) if post is not None else ({}, {})
    if post is None and request.GET.get("draft"):
        # A counter-speech entry chosen on an item that no conversation holds: the new
        # post opens with its text (``core.drafts``), to be edited.
        draft = resolve_draft(organization, request.GET["draft"], request.GET.get("lang", ""))
        if draft is not None:
            initial["main_text"] = draft.text
    data = request.POST if request.method == "POST" else None
    assets = request.org.scoped(MediaAsset)
    form = ComposeForm(data, sources=sources, initial=initial)
    return form, variant_forms(data, sources, assets, per_source), sources


def _save_message(before: Post | None, saved: Post) -> str:
    if before is None:
        return _("Draft saved.")
    if before.content_hash != saved.content_hash and saved.state == State.IN_REVIEW:
        if before.approval_current:
            return _(
                "Saved. Its content changed after it was approved: the post goes back to "
                "review, and is not published until it is approved again."
            )
        if before.state == State.IN_REVIEW:
            return _("Saved. Its content changed: the review starts again from the first step.")
    return _("Saved.")


def _submit_message(post: Post) -> str:
    if post.state == State.IN_REVIEW:
        return _("Submitted: it waits for approval.")
    if post.state == State.SCHEDULED:
        return _("No approval is needed for these accounts: the post is scheduled.")
    return _("No approval is needed for these accounts: the post is approved.")


@org_view(Capability.PUBLISH)
def post_compose(request: OrgRequest, pk: int | None = None) -> HttpResponse:
    org = request.org
    post = org.get(Post, pk=pk) if pk is not None else None
    if post is not None and post.state not in services.EDITABLE:
        messages.error(request, _("A post that is being published or was published cannot change."))
        return _detail(request, post)
    form, variants, _sources = _composer(request, post)
    answered = _countered_item(request) if post is None else post.in_reply_to
    if request.method == "POST":
        chosen = [variant for variant in variants if variant.source.pk in form.chosen_ids()]
        valid = form.is_valid()
        valid = all([variant.is_valid() for variant in chosen]) and valid
        if valid:
            data = form.cleaned_data
            main_text = (data.get("main_text") or "").strip()
            try:
                saved = services.save_post(
                    org.actor,
                    org.organization,
                    [variant.variant_input(main_text) for variant in chosen],
                    post=post,
                    title=data.get("title") or "",
                    scheduled_at=data.get("scheduled_at"),
                    labels=data.get("labels") or [],
                    campaign=data.get("campaign") or "",
                    recurrence=data.get("recurrence") or "",
                    evergreen=bool(data.get("evergreen")),
                    kind=(
                        Post.Kind.COUNTER_SPEECH
                        if post is None and answered is not None
                        else post.kind
                        if post is not None
                        else Post.Kind.POST
                    ),
                    in_reply_to=answered if post is None else None,
                )
            except services.PublishingError as exc:
                form.add_error(None, str(exc))
            else:
                # ``post`` is as it was read: the service saved a fresh copy.
                messages.success(request, _save_message(post, saved))
                if "submit" not in request.POST:
                    return _detail(request, saved)
                try:
                    submitted = services.submit(org.actor, saved)
                except services.PublishingError as exc:
                    messages.error(request, str(exc))
                    # Back to the composer: its checks say what to fix, account by account.
                    return redirect("publishing:edit", org_slug=org.organization.slug, pk=saved.pk)
                messages.success(request, _submit_message(submitted))
                return _detail(request, submitted)
    if form.is_bound:
        checks = _form_checks(form, variants)
    else:
        checks = _stored_checks(post) if post is not None else []
    return render(
        request,
        "publishing/compose.html",
        {
            "nav": "publishing",
            "post": post,
            "answered": answered,
            "form": form,
            "variants": _variant_rows(form, variants, checks),
            **feedback(checks),
        },
    )


def _countered_item(request: OrgRequest) -> Item | None:
    """The item a new post answers as counter-speech (``?counter_speech=<id>``, carried by
    the form): one of the organization's, else 404."""
    wanted = request.POST.get("counter_speech") or request.GET.get("counter_speech")
    if not wanted or not str(wanted).isdigit():
        return None
    return request.org.get(Item, pk=int(wanted))


def _variant_rows(
    form: ComposeForm, variants: Sequence[VariantForm], checks: Sequence[AccountCheck]
) -> list[dict[str, Any]]:
    """Each account's fieldset: its form, whether it is chosen, and the problems of its
    media (shown beside each)."""
    chosen = form.chosen_ids()
    by_source = {check.source.pk: check for check in checks}
    rows = []
    for variant in variants:
        check = by_source.get(variant.source.pk)
        chosen_assets = variant.chosen_assets()
        media_problems = {
            chosen_assets[index].pk: sentences
            for index, sentences in (check.media_problems.items() if check else [])
            if index < len(chosen_assets)
        }
        rows.append(
            {
                "form": variant,
                "source": variant.source,
                "network": platform_label(variant.source.platform),
                "chosen": variant.source.pk in chosen,
                # Each library file's checkbox, the file, and what stops it here.
                "assets": [
                    (
                        option,
                        option.data["value"].instance,
                        media_problems.get(option.data["value"].instance.pk, []),
                    )
                    for option in variant["assets"]
                ],
            }
        )
    return rows


@org_view(Capability.PUBLISH)
@require_POST
def post_check(request: OrgRequest) -> HttpResponse:
    """The composer's live checks (htmx, while typing): the same rules as on saving."""
    form, variants, _sources = _composer(request, None)
    return render(request, "publishing/_post_feedback.html", feedback(_form_checks(form, variants)))


# --- a post's page -----------------------------------------------------------------------------


def _detail(request: OrgRequest, post: Post) -> HttpResponse:
    return redirect("publishing:detail", org_slug=request.org.organization.slug, pk=post.pk)


def _external_allowed(post: Post) -> bool:
    if post.state != State.IN_REVIEW:
        return False
    steps = approval.steps_for(post)
    return post.review_step < len(steps) and steps[post.review_step].allow_external


def _post_page(request: OrgRequest, post: Post, **extra: Any) -> HttpResponse:
    org = request.org
    can_publish = org.can(Capability.PUBLISH)
    can_approve = org.can(Capability.APPROVE)
    variants = list(post.variants.select_related("source"))
    checks = {check.source.pk: check for check in _stored_checks(post)}
    problems = services.problems(post)
    rows = [
        {
            "variant": variant,
            "check": checks.get(variant.source_id),
            "outcome": outcome(variant),
            "network": platform_label(variant.source.platform),
            "problems": [limits.say(problem) for problem in problems.get(variant.pk, [])],
            # A network without a publishing interface: a package to post by hand.
            "manual": not limits.publishes_by_api(variant.source),
        }
        for variant in variants
    ]
    state = post.state
    context = {
        "nav": "publishing",
        "post": post,
        "rows": rows,
        "state_sentence": state_sentence(post),
        "steps": approval_progress(post),
        "can_publish": can_publish,
        "can_decide": can_approve and may_decide(request.user, post),
        "own_post": post.author_id == request.user.pk,
        "can_comment": can_publish or can_approve,
        "decide_form": DecideForm(initial={"seen_hash": post.content_hash}),
        "comment_form": CommentForm(),
        "schedule_form": ScheduleForm(initial={"when": post.scheduled_at}),
        "again_form": ScheduleForm(prefix="again"),
        "suspend_form": SuspendForm(),
        "external_form": ExternalLinkForm(),
        "comments": post.comments.select_related("author"),
        "events": history(request, post),
        "may_edit": can_publish and state in services.EDITABLE,
        "may_submit": can_publish and state in (State.DRAFT, State.APPROVAL_EXPIRED, State.FAILED),
        "may_schedule": can_publish and state not in (State.PUBLISHING, State.PUBLISHED),
        "may_publish_now": can_publish and state in services.READY and post.approval_current,
        "may_publish_again": can_publish and post.evergreen and state == State.PUBLISHED,
        "may_suspend": can_publish and state in (State.IN_REVIEW, *services.READY),
        "may_reinstate": can_publish and state == State.SUSPENDED,
        "may_link": (can_publish or can_approve) and _external_allowed(post),
        **extra,
    }
    return render(request, "publishing/detail.html", context)


@org_view(Capability.VIEW)
def post_detail(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post.objects.select_related("author"), pk=pk)
    return _post_page(request, post)


def _act(request: OrgRequest, post: Post, done: Callable[[Any], str], call: Any) -> HttpResponse:
    """Call the service; say what it did (``done`` reads its result) or why it refused."""
    try:
        result = call()
    except services.PublishingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done(result))
    return _detail(request, post)


def _require_one_of(request: OrgRequest, *capabilities: Capability) -> None:
    if not any(request.org.can(capability) for capability in capabilities):
        raise PermissionDenied("Your role does not allow this.")


@org_view(Capability.PUBLISH)
@require_POST
def post_submit(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post, pk=pk)
    return _act(request, post, _submit_message, lambda: services.submit(request.org.actor, post))


def _decided_message(post: Post) -> str:
    if post.state == State.DRAFT:
        return _("Sent back to its author.")
    if post.state == State.SCHEDULED:
        return _("Approved: the post is scheduled.")
    if post.state == State.APPROVED:
        return _("Approved: the post waits for its time to be set.")
    return _("Approved: the post waits for the next step.")


@org_view(Capability.APPROVE)
@require_POST
def post_decide(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post, pk=pk)
    form = DecideForm(request.POST)
    decision = request.POST.get("decision")
    if not form.is_valid() or decision not in ("approve", "reject"):
        messages.error(request, _("Approve or send back the post as you read it."))
        return _detail(request, post)
    data = form.cleaned_data
    return _act(
        request,
        post,
        _decided_message,
        lambda: services.decide(
            request.org.actor,
            post,
            decision == "approve",
            data["comment"].strip(),
            seen_hash=data["seen_hash"],
        ),
    )


@org_view(Capability.PUBLISH)
@require_POST
def post_schedule(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post, pk=pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a date and a time."))
        return _detail(request, post)
    when = form.cleaned_data["when"]

    def done(_post: Post) -> str:
        if when is None:
            return _("The post has no time any more.")
        return _("Time set: %(when)s.") % {
            "when": timezone.localtime(when).strftime("%d/%m/%Y %H:%M")
        }

    return _act(request, post, done, lambda: services.schedule(request.org.actor, post, when))


@org_view(Capability.PUBLISH)
@require_POST
def post_publish_again(request: OrgRequest, pk: int) -> HttpResponse:
    """An evergreen post goes out again at a time to come (an empty slot)."""
    post = request.org.get(Post, pk=pk)
    form = ScheduleForm(request.POST, prefix="again")
    when = form.cleaned_data["when"] if form.is_valid() else None
    if when is None:
        messages.error(request, _("Give a date and a time."))
        return _detail(request, post)
    try:
        copy = services.publish_again(request.org.actor, post, when)
    except services.PublishingError as exc:
        messages.error(request, str(exc))
        return _detail(request, post)
    messages.success(
        request,
        _("Published again on %(when)s: the new post is below.")
        % {"when": timezone.localtime(when).strftime("%d/%m/%Y %H:%M")},
    )
    return _detail(request, copy)


@org_view(Capability.PUBLISH)
@require_POST
def post_publish_now(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post, pk=pk)
    return _act(
        request,
        post,
        lambda _post: _("Publishing: each account's outcome shows below."),
        lambda: services.publish_now(request.org.actor, post),
    )


@org_view(Capability.PUBLISH)
@require_POST
def post_suspend(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post, pk=pk)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the post is suspended."))
        return _detail(request, post)
    reason = form.cleaned_data["reason"].strip()
    return _act(
        request,
        post,
        lambda _post: _("Suspended: it will not be published until it is reinstated."),
        lambda: services.suspend(request.org.actor, post, reason),
    )


@org_view(Capability.PUBLISH)
@require_POST
def post_reinstate(request: OrgRequest, pk: int) -> HttpResponse:
    post = request.org.get(Post, pk=pk)

    def done(reinstated: Post) -> str:
        return _("Reinstated: %(state)s.") % {"state": reinstated.get_state_display()}

    return _act(request, post, done, lambda: services.reinstate(request.org.actor, post))


@org_view(Capability.VIEW)
@require_POST
def post_comment(request: OrgRequest, pk: int) -> HttpResponse:
    _require_one_of(request, Capability.PUBLISH, Capability.APPROVE)
    post = request.org.get(Post, pk=pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a comment first."))
        return _detail(request, post)
    body = form.cleaned_data["body"]
    return _act(
        request,
        post,
        lambda _comment: _("Comment added."),
        lambda: services.add_comment(request.org.actor, post, body),
    )


@org_view(Capability.VIEW)
@require_POST
def post_external_link(request: OrgRequest, pk: int) -> HttpResponse:
    """A link for someone without an account (an elected official) to approve the current
    step: shown on this answer only (only its hash is kept)."""
    _require_one_of(request, Capability.PUBLISH, Capability.APPROVE)
    post = request.org.get(Post.objects.select_related("author"), pk=pk)
    form = ExternalLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say who the link is for."))
        return _detail(request, post)
    data = form.cleaned_data
    try:
        link, token = services.create_external_link(
            request.org.actor, post, data["name"], data.get("email") or ""
        )
    except services.PublishingError as exc:
        messages.error(request, str(exc))
        return _detail(request, post)
    path = reverse("publishing_public:approve", args=[token])
    return _post_page(
        request,
        post,
        external_url=f"{settings.BEFFROI_PUBLIC_URL}{path}",
        external_link=link,
    )


@org_view(Capability.PUBLISH)
@require_POST
def variant_retry(request: OrgRequest, pk: int) -> HttpResponse:
    variant = request.org.get(PostVariant.objects.select_related("post"), pk=pk)
    return _act(
        request,
        variant.post,
        lambda _variant: _("Being sent again: its outcome shows below."),
        lambda: services.retry_variant(request.org.actor, variant),
    )


@org_view(Capability.PUBLISH)
@require_POST
def variant_confirm(request: OrgRequest, pk: int) -> HttpResponse:
    variant = request.org.get(PostVariant.objects.select_related("post"), pk=pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The link must start with https://."))
        return _detail(request, variant.post)
    url = form.cleaned_data.get("url") or ""
    return _act(
        request,
        variant.post,
        lambda _variant: _("Recorded as published."),
        lambda: services.confirm_published(request.org.actor, variant, url),
    )


# --- the package to post by hand -------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """Where the archive is written, emptied after each piece: the download never holds more
    than a piece of a file."""

    def __init__(self) -> None:
        super().__init__()
        self._pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._pieces)
        self._pieces.clear()
        return out


def _readme(variant: PostVariant, names: Sequence[tuple[str, MediaAsset]]) -> str:
    """How to post it by hand, in the organization's language."""
    with translation.override(variant.post.organization.language):
        network = platform_label(variant.source.platform)
        lines = [
            _("“%(title)s”, to post on %(network)s from the account “%(account)s”.")
            % {"title": variant.post.title, "network": network, "account": variant.source.name},
            "",
            _("%(network)s has no publishing interface Beffroi can use: post it by hand.")
            % {"network": network},
            _("1. Open %(network)s on the account's phone or computer.") % {"network": network},
            _("2. Add the files of the media folder, in their order.")
            if names
            else _("2. This post has no media."),
            _("3. Copy the text of text.txt as it is."),
            _("4. Publish, then confirm it on the post's page in Beffroi."),
        ]
        if variant.title:
            lines += ["", _("Title: %(title)s") % {"title": variant.title}]
        if variant.link:
            lines += ["", _("Link: %(link)s") % {"link": variant.link}]
        if variant.first_comment:
            lines += ["", _("First comment: %(comment)s") % {"comment": variant.first_comment}]
        for name, asset in names:
            description = asset.alt_text or _("(no description)")
            lines += [
                "",
                _("%(file)s: %(description)s") % {"file": name, "description": description},
            ]
    return "\n".join(lines) + "\n"


def _package(variant: PostVariant, assets: Sequence[MediaAsset]) -> Iterator[bytes]:
    names = []
    for position, asset in enumerate(assets, start=1):
        extension = PurePath(asset.file.name or "").suffix.lower()[:9]
        stem = slugify(PurePath(asset.name).stem)[:60] or "media"
        names.append((f"media/{position:02d}-{stem}{extension}", asset))
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("text.txt", variant.text + "\n")
        archive.writestr("README.txt", _readme(variant, names))
        yield pipe.drain()
        for name, asset in names:
            # Media are already compressed: stored as they are.
            with (
                asset.file.open("rb") as stored,
                archive.open(
                    zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6]),
                    "w",
                    force_zip64=True,
                ) as entry,
            ):
                for piece in iter(partial(stored.read, PACKAGE_CHUNK), b""):
                    entry.write(piece)
                    yield pipe.drain()
    yield pipe.drain()


@org_view(Capability.PUBLISH)
@require_GET
def variant_package(request: OrgRequest, pk: int) -> StreamingHttpResponse:
    """A ZIP to post a variant by hand (Snapchat has no publishing interface): its text, its
    media and how to post it."""
    variant = request.org.get(
        PostVariant.objects.select_related("post", "post__organization", "source"), pk=pk
    )
    assets = [
        attached.media
        for attached in variant.variantmedia_set.select_related("media").order_by("position", "id")
    ]
    response = StreamingHttpResponse(_package(variant, assets), content_type="application/zip")
    name = slugify(f"{variant.post.title[:40]}-{variant.source.platform}") or "post"
    response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    return response
