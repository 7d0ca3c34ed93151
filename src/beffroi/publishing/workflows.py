"""The writers of who approves (the approval workflows and their steps) and of the
organization's publishing settings (its own domains, UTM parameters, time to approve).

A workflow's steps are read live by :mod:`beffroi.publishing.approval`: a workflow changed
while posts are in review applies to them from their current step on. A workflow is not
deleted while posts are in review under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import ROLE_CAPABILITIES, Capability
from beffroi.publishing import approval
from beffroi.publishing.models import ApprovalStep, ApprovalWorkflow, Post, PublishingSettings
from beffroi.publishing.services import PublishingError, settings_of
from beffroi.sources.models import Source

#: A member may approve a step when their role lets them approve, publish or manage.
APPROVING = frozenset({Capability.APPROVE, Capability.PUBLISH, Capability.MANAGE})
#: Longest "time to approve" before a post's time, in hours (a month).
MAX_APPROVAL_HOURS = 24 * 31
SETTINGS_FIELDS = ["own_domains", "utm_source", "utm_medium", "utm_campaign", "approval_hours"]


@dataclass
class StepInput:
    """One step as a person set it."""

    name: str
    rule: str = ApprovalStep.Rule.ANY
    required: int = 1
    approvers: Sequence[Any] = field(default_factory=tuple)
    allow_external: bool = False


def approver_roles() -> list[str]:
    return sorted(role for role, allowed in ROLE_CAPABILITIES.items() if allowed & APPROVING)


def eligible_approvers(organization: Organization) -> QuerySet[Any]:
    """The organization's members who may be named approvers of a step."""
    return (
        get_user_model()
        .objects.filter(
            memberships__organization=organization, memberships__role__in=approver_roles()
        )
        .order_by("username")
        .distinct()
    )


# --- workflows -----------------------------------------------------------------------------


def describe(workflow: ApprovalWorkflow) -> dict[str, Any]:
    """What the audit trail keeps of a workflow: its settings and its steps."""
    return {
        **snapshot(workflow, ["name", "source", "for_posts", "for_replies", "for_counter_speech"]),
        "steps": [
            {
                "name": step.name,
                "rule": step.rule,
                "required": step.required,
                "approvers": sorted(str(user.get_username()) for user in step.approvers.all()),
                "allow_external": step.allow_external,
            }
            for step in workflow.steps.order_by("position", "id")
        ],
    }


def _check_approvers(organization: Organization, number: int, step: StepInput) -> None:
    allowed = set(eligible_approvers(organization).values_list("id", flat=True))
    for user in step.approvers:
        if user.pk in allowed:
            continue
        if Membership.objects.filter(organization=organization, user=user).exists():
            raise PublishingError(
                _(
                    "Step %(number)s: the role of %(user)s does not let them approve "
                    "(approver, publisher or administrator)."
                )
                % {"number": number, "user": user.get_username()}
            )
        raise PublishingError(
            _("Step %(number)s: %(user)s is not a member of the organization.")
            % {"number": number, "user": user.get_username()}
        )


def _check_step(organization: Organization, number: int, step: StepInput) -> None:
    if step.rule not in ApprovalStep.Rule.values:
        raise PublishingError(_("Step %(number)s: choose a rule.") % {"number": number})
    _check_approvers(organization, number, step)
    group = len({user.pk for user in step.approvers})
    if not group and (not step.allow_external or step.rule == ApprovalStep.Rule.ALL):
        raise PublishingError(_("Step %(number)s: choose its approvers.") % {"number": number})
    if step.rule == ApprovalStep.Rule.N_OF:
        if step.required < 1:
            raise PublishingError(
                _("Step %(number)s: at least one approval is needed.") % {"number": number}
            )
        if step.required > group:
            raise PublishingError(
                ngettext(
                    "Step %(number)s asks for %(required)s approvals from a group of "
                    "%(group)s person.",
                    "Step %(number)s asks for %(required)s approvals from a group of "
                    "%(group)s people.",
                    group,
                )
                % {"number": number, "required": step.required, "group": group}
            )


def _write_steps(workflow: ApprovalWorkflow, steps: Sequence[StepInput]) -> None:
    """The steps in their order, changing the rows in place (approvals keep their step)."""
    existing = list(workflow.steps.order_by("position", "id"))
    for position, wanted in enumerate(steps, start=1):
        step = existing[position - 1] if position <= len(existing) else ApprovalStep()
        step.workflow = workflow
        step.position = position
        step.name = wanted.name.strip()[:120] or _("Step %(number)s") % {"number": position}
        step.rule = wanted.rule
        step.required = wanted.required if wanted.rule == ApprovalStep.Rule.N_OF else 1
        step.allow_external = wanted.allow_external
        step.save()
        step.approvers.set(wanted.approvers)
    for gone in existing[len(steps) :]:
        gone.delete()


def _taken(organization: Organization, source: Source | None) -> PublishingError:
    """Why a workflow cannot be saved as the default, or as an account's, a second time."""
    other = ApprovalWorkflow.objects.for_org(organization).filter(source=source).first()
    name = other.name if other is not None else ""
    if source is None:
        return PublishingError(
            _(
                "The organization already has a default workflow (%(name)s): edit it, or "
                "choose an account for this one."
            )
            % {"name": name}
        )
    return PublishingError(
        _("The account %(account)s already has its own workflow (%(name)s): edit it instead.")
        % {"account": source.name, "name": name}
    )


def save_workflow(
    actor: Actor,
    organization: Organization,
    *,
    name: str,
    steps: Sequence[StepInput],
    source: Source | None = None,
    for_posts: bool = True,
    for_replies: bool = False,
    for_counter_speech: bool = True,
    workflow: ApprovalWorkflow | None = None,
) -> ApprovalWorkflow:
    """Create or change a workflow and its steps, in order. ``source`` None: the
    organization's default, for the accounts without their own."""
    name = name.strip()[:120]
    if not name:
        raise PublishingError(_("Name the workflow."))
    if source is not None and source.organization_id != organization.pk:
        raise PublishingError(_("This account is not one of the organization's."))
    if not (for_posts or for_replies or for_counter_speech):
        raise PublishingError(
            _("Choose what the workflow approves: posts, replies or counter-speech.")
        )
    if not steps:
        raise PublishingError(_("A workflow has at least one step."))
    for number, step in enumerate(steps, start=1):
        _check_step(organization, number, step)
    try:
        with transaction.atomic():
            if workflow is None:
                workflow = ApprovalWorkflow(organization=organization)
                before = None
            else:
                workflow = (
                    ApprovalWorkflow.objects.for_org(organization)
                    .select_for_update()
                    .get(pk=workflow.pk)
                )
                before = describe(workflow)
            workflow.name = name
            workflow.source = source
            workflow.for_posts = for_posts
            workflow.for_replies = for_replies
            workflow.for_counter_speech = for_counter_speech
            workflow.save()
            _write_steps(workflow, steps)
            record(
                actor,
                AuditAction.WORKFLOW_SAVE,
                organization=organization,
                obj=workflow,
                before=before,
                after=describe(workflow),
            )
    except IntegrityError:
        # One default workflow per organization, one workflow per account (model constraints).
        raise _taken(organization, source) from None
    return workflow


def posts_in_review(workflow: ApprovalWorkflow) -> list[Post]:
    """The posts in review whose approval goes through ``workflow``."""
    return [
        post
        for post in Post.objects.for_org(workflow.organization_id).filter(
            state=Post.State.IN_REVIEW
        )
        if any(found.pk == workflow.pk for found in approval.workflows_for(post))
    ]


def delete_workflow(actor: Actor, workflow: ApprovalWorkflow) -> None:
    """Delete a workflow; refused while posts are in review under it (they would go out
    without the approval they wait for)."""
    waiting = len(posts_in_review(workflow))
    if waiting:
        raise PublishingError(
            ngettext(
                "%(count)s post is in review under this workflow: approve it, send it back or "
                "suspend it before deleting the workflow.",
                "%(count)s posts are in review under this workflow: approve them, send them "
                "back or suspend them before deleting the workflow.",
                waiting,
            )
            % {"count": waiting}
        )
    with transaction.atomic():
        record(
            actor,
            AuditAction.WORKFLOW_DELETE,
            organization=workflow.organization,
            obj=workflow,
            before=describe(workflow),
        )
        workflow.delete()


# --- settings ------------------------------------------------------------------------------


def parse_domains(text: str) -> list[str]:
    """The domain names written one per line, in lower case, each once; refused with the
    lines that are not domain names."""
    validate = DomainNameValidator()
    domains: list[str] = []
    wrong: list[str] = []
    for line in text.splitlines():
        domain = line.strip().lower().rstrip(".")
        if not domain:
            continue
        try:
            validate(domain)
        except ValidationError:
            wrong.append(line.strip())
            continue
        if domain not in domains:
            domains.append(domain)
    if wrong:
        raise PublishingError(
            ngettext(
                "This line is not a domain name: %(lines)s. Write one domain per line "
                "(ville-exemple.fr), without https:// or a path.",
                "These lines are not domain names: %(lines)s. Write one domain per line "
                "(ville-exemple.fr), without https:// or a path.",
                len(wrong),
            )
            % {"lines": ", ".join(wrong)}
        )
    return domains


def save_settings(
    actor: Actor, organization: Organization, values: Mapping[str, Any]
) -> PublishingSettings:
    """Change the organization's publishing settings: ``own_domains`` (one per line),
    ``utm_source``, ``utm_medium``, ``utm_campaign``, ``approval_hours``."""
    domains = parse_domains(str(values.get("own_domains") or ""))
    hours = values.get("approval_hours") or 0
    if not isinstance(hours, int) or not 0 <= hours <= MAX_APPROVAL_HOURS:
        raise PublishingError(
            _("The time to approve is a number of hours between 0 and %(most)s.")
            % {"most": MAX_APPROVAL_HOURS}
        )
    with transaction.atomic():
        found = settings_of(organization)
        current = PublishingSettings.objects.select_for_update().get(pk=found.pk)
        before = snapshot(current, SETTINGS_FIELDS)
        current.own_domains = "\n".join(domains)
        for name in ("utm_source", "utm_medium", "utm_campaign"):
            setattr(current, name, str(values.get(name) or "").strip()[:60])
        current.approval_hours = hours
        current.save()
        record(
            actor,
            AuditAction.PUBLISHING_SETTINGS,
            organization=organization,
            obj=current,
            before=before,
            after=snapshot(current, SETTINGS_FIELDS),
        )
    return current
