"""Who must approve a post, in which order, and when a step is passed.

A post follows the default workflow of its organization for the accounts that have none of
their own, and each account's own workflow: their steps one after the other (workflow by
workflow, step by step). A post whose kind no workflow covers needs no approval.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from beffroi.publishing.models import (
    Approval,
    ApprovalStep,
    ApprovalWorkflow,
    Post,
    PostVariant,
)


def content_hash(post: Post, variants: Iterable[PostVariant] | None = None) -> str:
    """A fingerprint of what would be published: an approval is bound to it."""
    chosen = list(variants) if variants is not None else list(post.variants.all())
    body: dict[str, Any] = {
        "kind": post.kind,
        "in_reply_to": post.in_reply_to_id,
        "variants": [
            {
                "source": variant.source_id,
                "text": variant.text,
                "title": variant.title,
                "link": variant.link,
                "first_comment": variant.first_comment,
                "media": [
                    [attached.media.sha256, attached.media.alt_text]
                    for attached in variant.variantmedia_set.select_related("media").order_by(
                        "position", "id"
                    )
                ]
                if variant.pk
                else [],
            }
            for variant in sorted(chosen, key=lambda v: v.source_id)
        ],
    }
    encoded = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def _covers(workflow: ApprovalWorkflow, kind: str) -> bool:
    if kind == Post.Kind.REPLY:
        return workflow.for_replies
    if kind == Post.Kind.COUNTER_SPEECH:
        return workflow.for_counter_speech
    return workflow.for_posts


def workflows_for(post: Post) -> list[ApprovalWorkflow]:
    """The workflows a post passes through: each of its accounts' own, and the default for
    the accounts without one."""
    source_ids = set(post.variants.values_list("source_id", flat=True))
    return workflows_for_sources(post.organization_id, source_ids, post.kind)


def workflows_for_sources(
    organization_id: int, source_ids: set[int], kind: str
) -> list[ApprovalWorkflow]:
    workflows = list(
        ApprovalWorkflow.objects.for_org(organization_id)
        .filter(source_id__in=source_ids)
        .order_by("id")
    )
    own = {workflow.source_id for workflow in workflows}
    if not source_ids or source_ids - own:
        default = (
            ApprovalWorkflow.objects.for_org(organization_id).filter(source__isnull=True).first()
        )
        if default is not None:
            workflows.insert(0, default)
    return [workflow for workflow in workflows if _covers(workflow, kind)]


def steps_for(post: Post) -> list[ApprovalStep]:
    """Every step the post must pass, in order."""
    steps: list[ApprovalStep] = []
    for workflow in workflows_for(post):
        steps.extend(workflow.steps.order_by("position", "id").prefetch_related("approvers"))
    return steps


def needs_approval(post: Post) -> bool:
    return bool(steps_for(post))


def approvals_of_step(post: Post, step_index: int) -> list[Approval]:
    """The approvals given to this step for the post's current content."""
    return list(
        Approval.objects.filter(
            post=post,
            step_index=step_index,
            decision=Approval.Decision.APPROVE,
            content_hash=post.content_hash,
        )
    )


def required_count(step: ApprovalStep) -> int:
    """How many distinct approvals pass the step."""
    group = step.approvers.count()
    if step.rule == ApprovalStep.Rule.ALL:
        return max(group, 1)
    if step.rule == ApprovalStep.Rule.N_OF:
        return max(1, min(step.required, group) if group else step.required)
    return 1


def step_passed(step: ApprovalStep, approvals: Sequence[Approval]) -> bool:
    """Whether these approvals pass the step: distinct people; for "all of", every member."""
    people = {approval.user_id for approval in approvals if approval.user_id is not None}
    outsiders = {approval.external_name for approval in approvals if approval.user_id is None}
    if step.rule == ApprovalStep.Rule.ALL:
        members = set(step.approvers.values_list("id", flat=True))
        return bool(members) and members <= people
    return len(people) + len(outsiders) >= required_count(step)


def may_approve(user: Any, step: ApprovalStep) -> bool:
    """A member of the step's group (the author is refused elsewhere)."""
    return step.approvers.filter(pk=user.pk).exists()


def refusal(user: Any, post: Post, approve: bool = True) -> str | None:
    """Why ``user`` may not decide on ``post`` now (a sentence), or None when they may: it
    waits in review, they did not write it, they are among the current step's approvers
    and, to approve, did not approve this content yet. The service refuses with it; pages
    offer the buttons only where it is None."""
    if post.state != Post.State.IN_REVIEW:
        return _("This post is not waiting for an approval.")
    if user is None or post.author_id == user.pk:
        return _("No one approves their own post.")
    steps = steps_for(post)
    if post.review_step >= len(steps):
        return _("This post has no approval step left to give.")
    step = steps[post.review_step]
    if not may_approve(user, step):
        return _("You are not among the approvers of this step (%(step)s).") % {"step": step.name}
    if (
        approve
        and Approval.objects.filter(
            post=post,
            step_index=post.review_step,
            user=user,
            content_hash=post.content_hash,
            decision=Approval.Decision.APPROVE,
        ).exists()
    ):
        return _("You already approved this step.")
    return None


def may_decide(user: Any, post: Post) -> bool:
    return refusal(user, post) is None
