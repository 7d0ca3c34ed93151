"""Moderation: automatic judgement by the charter, and every decision a person takes.

Every function that changes something writes an audit event. Nothing is hidden or deleted
before its evidence is preserved, in the same transaction as the decision; the platform
action itself runs after the commit, as a job, so a refusal or an outage never loses the
decision and is retried where that makes sense.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.analysis.moderation.decide import CharterPolicy, Judgement, Verdict, judge
from beffroi.analysis.moderation.signals import Signal
from beffroi.audit.actions import AuditAction, moderation_action
from beffroi.audit.services import Actor, record, snapshot
from beffroi.core.mail import relay_configured
from beffroi.items.models import Item
from beffroi.jobs.engine import enqueue
from beffroi.moderation import evidence as evidence_store
from beffroi.moderation.detectors import model_detectors, rule_detectors, run
from beffroi.moderation.models import UNDOABLE_ACTIONS, Appeal, Case, Decision
from beffroi.moderation.policy import charter_policies
from beffroi.moderation.queue import request_platform_action
from beffroi.organizations.models import Membership, Organization
from beffroi.organizations.roles import Capability

#: Kinds of items the charter is applied to (the organization's own posts are not judged).
JUDGED_KINDS = (Item.Kind.COMMENT, Item.Kind.REPLY, Item.Kind.MENTION, Item.Kind.MESSAGE)

#: Items judged per database transaction.
COMMIT_EVERY = 100

#: How long a case stays with the person who took it without any activity of theirs (opening
#: it, answering, reporting): past it, the lock has expired and anyone may take the case.
ASSIGNMENT_TIMEOUT = timedelta(minutes=30)

#: Actions a person takes on an item from the queue or the item page.
PERSON_ACTIONS = (
    Decision.Action.KEEP,
    Decision.Action.HIDE,
    Decision.Action.DELETE,
    Decision.Action.ESCALATE,
    Decision.Action.REPLY,
    Decision.Action.REPORT,
)

#: Actions that take an item out of public view: evidence first.
RESTRICTIVE = (Decision.Action.HIDE, Decision.Action.DELETE)


class ModerationError(Exception):
    """A decision that cannot be taken, with a message for the person who tried."""


@dataclass
class ModerationOutcome:
    judged: int = 0
    hidden: int = 0
    queued: int = 0
    kept: int = 0
    shadow: int = 0


def _snapshot_category(policy: CharterPolicy, slug: str) -> dict[str, Any]:
    category = policy.categories.get(slug)
    if category is None:
        return {}
    return {
        "slug": category.slug,
        "name": category.name,
        "clause": category.clause,
        "legal_reference": category.legal_reference,
        "severity": category.severity,
        "dsa_decision_ground": category.dsa_decision_ground,
        "dsa_category": category.dsa_category,
        "dsa_specifications": list(category.dsa_specifications),
        "hide_at": category.hide_at,
        "review_at": category.review_at,
    }


def _decision_from(
    item: Item,
    judgement: Judgement,
    policy: CharterPolicy,
    *,
    action: str,
    status: str,
) -> Decision:
    snap = _snapshot_category(policy, judgement.category)
    return Decision(
        organization_id=item.organization_id,
        item=item,
        action=action,
        category=judgement.category,
        clause=snap.get("clause", ""),
        automated=True,
        rule=", ".join(sorted(judgement.detectors)),
        scores=judgement.scores(),
        score=round(judgement.score, 4),
        charter_version=policy.version,
        charter_snapshot=snap,
        detectors=judgement.detectors,
        explanation=list(judgement.evidence)[:20],
        status=status,
    )


def _analysis(judgement: Judgement, policy: CharterPolicy) -> dict[str, Any]:
    return {
        "verdict": str(judgement.verdict),
        "category": judgement.category,
        "score": round(judgement.score, 4),
        "charter_version": policy.version,
        "shadow": judgement.shadow,
        "scores": judgement.scores(),
        "explanation": list(judgement.evidence)[:20],
        "detectors": judgement.detectors,
        "at": timezone.now().isoformat(),
    }


#: Who takes the automatic decisions, as the audit trail names it.
CHARTER_ACTOR = Actor.system("charter")


def _record_automatic(
    organization: Organization, item: Item, decision: Decision, before: dict[str, Any]
) -> None:
    """The audit event of a decision the charter applied by itself (a hide, a deletion or a
    case opened), with the rule engine as the actor."""
    record(
        CHARTER_ACTOR,
        moderation_action(decision.action),
        organization=organization,
        obj=decision,
        before=before,
        after={
            **snapshot(item, ["visibility", "state"]),
            "decision": decision.pk,
            "category": decision.category,
            "score": decision.score,
            "charter_version": decision.charter_version,
            "detectors": decision.rule,
        },
    )


def _apply_judgement(
    organization: Organization, item: Item, judgement: Judgement, live: CharterPolicy
) -> str:
    """Record what the live charter says about one claimed item; returns the verdict kind."""
    item.analysis = _analysis(judgement, live)
    if judgement.shadow:
        action = (
            Decision.Action.HIDE if judgement.verdict is Verdict.HIDE else Decision.Action.QUEUE
        )
        _decision_from(item, judgement, live, action=action, status=Decision.Status.SHADOW).save()
        item.state = Item.State.PROCESSED
        item.save(update_fields=["state", "analysis"])
        # Not audited: a shadow decision is never acted on (the item is untouched); it is
        # kept as a decision with the status ``shadow``, what the decisions log shows apart.
        return "shadow"
    # Claimed by moving it out of ``new`` (in the caller); what it was before the charter acted.
    before = {"visibility": item.visibility, "state": Item.State.NEW}
    if judgement.verdict is Verdict.HIDE:
        category = live.categories[judgement.category]
        action = Decision.Action.DELETE if category.auto_delete else Decision.Action.HIDE
        preserved = evidence_store.preserve(item)
        decision = _decision_from(
            item, judgement, live, action=action, status=Decision.Status.APPLIED
        )
        decision.evidence = preserved
        decision.platform_status = Decision.PlatformStatus.PENDING
        decision.save()
        # The item stays visible until the platform has hidden it (moderation.platform).
        item.state = Item.State.PROCESSED
        item.save(update_fields=["state", "analysis", "visibility"])
        _record_automatic(organization, item, decision, before)
        request_platform_action(decision)
        return "hidden"
    decision = _decision_from(
        item, judgement, live, action=Decision.Action.QUEUE, status=Decision.Status.PROPOSED
    )
    decision.save()
    policy = live.categories.get(judgement.category)
    _open_case(
        item,
        Case.Kind.REVIEW,
        decision=decision,
        category=judgement.category,
        severity=policy.severity if policy else 0,
        score=judgement.score,
        reason=_("Doubtful: %(category)s (%(score).0f%%)")
        % {"category": judgement.category, "score": judgement.score * 100},
    )
    item.state = Item.State.IN_REVIEW
    item.save(update_fields=["state", "analysis"])
    _record_automatic(organization, item, decision, before)
    return "queued"


def _record_shadow_version(item: Item, signals: Sequence[Signal], shadow: CharterPolicy) -> bool:
    """What a charter version in shadow mode would have done (recorded, never acted on)."""
    judgement = judge(signals, shadow)
    if judgement.verdict is Verdict.KEEP:
        return False
    action = Decision.Action.HIDE if judgement.verdict is Verdict.HIDE else Decision.Action.QUEUE
    _decision_from(item, judgement, shadow, action=action, status=Decision.Status.SHADOW).save()
    return True


def _claim(item: Item, **fields: Any) -> bool:
    """Move ``item`` out of ``new`` (with ``fields``) unless another run already did."""
    claimed = Item.objects.filter(pk=item.pk, state=Item.State.NEW).update(
        state=Item.State.PROCESSED, **fields
    )
    return bool(claimed)


def moderate_items(items: Iterable[Item], *, locked: bool = False) -> ModerationOutcome:
    """Judge new items by their organization's live charter (and a shadow version if any).

    Idempotent and safe to run concurrently: each item is claimed by moving it out of the
    ``new`` state inside the transaction that records its decision, so an item is judged
    exactly once and an interruption leaves it ``new`` for the next run. ``locked``: the
    caller's transaction holds the items' rows (:func:`moderate_pending` on PostgreSQL), so
    they are already claimed, and the kept ones are recorded in one statement per chunk.
    """
    outcome = ModerationOutcome()
    by_org: dict[int, list[Item]] = {}
    for item in items:
        by_org.setdefault(item.organization_id, []).append(item)
    for org_id, batch in by_org.items():
        organization = Organization.objects.get(pk=org_id)
        live, shadow = charter_policies(organization)
        judged = [item for item in batch if item.kind in JUDGED_KINDS]
        skipped = [item.pk for item in batch if item.kind not in JUDGED_KINDS]
        if skipped:
            Item.objects.filter(pk__in=skipped, state=Item.State.NEW).update(
                state=Item.State.PROCESSED
            )
        if live is None or not judged:
            continue
        texts = [item.text for item in judged]
        model_signals = run(model_detectors(organization), texts)
        live_rules = run(rule_detectors(live.key), texts)
        shadow_rules = run(rule_detectors(shadow.key), texts) if shadow is not None else None
        for start in range(0, len(judged), COMMIT_EVERY):
            # One transaction per chunk: claims, decisions and evidence commit together, so
            # an interruption leaves the whole chunk ``new`` and nothing half-recorded.
            with transaction.atomic():
                kept: list[Item] = []
                for index in range(start, min(start + COMMIT_EVERY, len(judged))):
                    item = judged[index]
                    judgement = judge(live_rules[index] + model_signals[index], live)
                    if judgement.verdict is Verdict.KEEP:
                        analysis = _analysis(judgement, live)
                        if locked:
                            item.state, item.analysis = Item.State.PROCESSED, analysis
                            kept.append(item)
                        # Most comments: claimed and recorded in one statement.
                        elif not _claim(item, analysis=analysis):
                            continue
                        kind = "kept"
                    else:
                        if not locked and not _claim(item):
                            continue
                        kind = _apply_judgement(organization, item, judgement, live)
                    if shadow is not None and shadow_rules is not None:
                        # The shadow version has its own rules; the models are shared.
                        shadow_signals = shadow_rules[index] + model_signals[index]
                        if _record_shadow_version(item, shadow_signals, shadow):
                            outcome.shadow += 1
                    outcome.judged += 1
                    if kind == "shadow":
                        outcome.shadow += 1
                    else:
                        setattr(outcome, kind, getattr(outcome, kind) + 1)
                if kept:
                    Item.objects.bulk_update(kept, ["state", "analysis"])
    return outcome


def claims_with_row_locks() -> bool:
    """Whether judging claims its batches with ``SELECT … FOR UPDATE SKIP LOCKED`` (the
    database can), so that any number of jobs judge one organization side by side, each
    its own batch. SQLite cannot: there, one job at a time judges an organization."""
    return bool(connection.features.has_select_for_update_skip_locked)


def moderate_pending(
    organization: Organization | None = None, limit: int = 500, after_id: int = 0
) -> tuple[int, int]:
    """Judge up to ``limit`` items still ``new`` with an id above ``after_id``; returns how
    many were looked at and the last id looked at (0 when there was none). Items of an
    organization without a live charter stay ``new``: the next call goes on past them.

    Where the database can (:func:`claims_with_row_locks`), the batch is claimed by locking
    its rows, skipping those another job holds, and judged and decided in the same
    transaction: concurrent jobs take disjoint batches, none judges an item another is
    judging, and an interrupted batch is rolled back whole, left ``new`` for the next."""
    pending = Item.objects.filter(state=Item.State.NEW, pk__gt=after_id)
    if organization is not None:
        pending = pending.filter(organization=organization)
    pending = pending.select_related("source", "author").order_by("id")
    if not claims_with_row_locks():
        batch = list(pending[:limit])
        moderate_items(batch)
        return len(batch), (batch[-1].pk if batch else 0)
    with transaction.atomic():
        batch = list(pending.select_for_update(skip_locked=True, of=("self",))[:limit])
        moderate_items(batch, locked=True)
    return len(batch), (batch[-1].pk if batch else 0)


def moderate_all_pending(organization: Organization | None = None, batch_size: int = 500) -> int:
    """Judge every item waiting, in batches; returns how many items were looked at."""
    looked_at = 0
    last = 0
    while True:
        count, last = moderate_pending(organization, limit=batch_size, after_id=last)
        if not count:
            return looked_at
        looked_at += count


# --- cases and assignment ----------------------------------------------------------------------


def _open_case(item: Item, kind: str, **fields: Any) -> Case:
    existing = Case.objects.filter(item=item, kind=kind).exclude(state=Case.State.CLOSED).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Case.objects.create(
                organization_id=item.organization_id, item=item, kind=kind, **fields
            )
    except IntegrityError:
        return Case.objects.get(item=item, kind=kind, state__in=[Case.State.OPEN, "assigned"])


def open_cases(organization: Organization) -> QuerySet[Case]:
    return Case.objects.for_org(organization).exclude(state=Case.State.CLOSED)


def is_lead(user: Any, organization_id: int) -> bool:
    """Whether ``user`` is one of the organization's leads (its administrators)."""
    membership = Membership.objects.filter(user=user, organization_id=organization_id).first()
    return membership is not None and membership.allows(Capability.MANAGE)


def _free() -> Q:
    """Cases nobody holds: open, or whose holder's lock has expired."""
    stale = timezone.now() - ASSIGNMENT_TIMEOUT
    return Q(state=Case.State.OPEN) | Q(state=Case.State.ASSIGNED, assigned_at__lt=stale)


def _not_for(user: Any, lead: bool) -> Q:
    """Escalations meant for someone else: another member, or the leads when not one."""
    other_person = Q(kind=Case.Kind.ESCALATION, escalated_to__isnull=False) & ~Q(escalated_to=user)
    if lead:
        return other_person
    return other_person | Q(kind=Case.Kind.ESCALATION, escalated_to__isnull=True)


def _available_to(user: Any, cases: QuerySet[Case], lead: bool = False) -> QuerySet[Case]:
    return (
        cases.filter(_free() | Q(assignee=user))
        .exclude(excluded_user=user)
        .exclude(_not_for(user, lead))
    )


def holder(case: Case) -> Any | None:
    """Who holds ``case`` now: its assignee while the lock runs, else nobody."""
    if case.state != Case.State.ASSIGNED or case.assigned_at is None:
        return None
    if case.assigned_at < timezone.now() - ASSIGNMENT_TIMEOUT:
        return None
    return case.assignee


def lock_expires_at(case: Case) -> Any | None:
    """When the holder's lock on ``case`` expires without activity of theirs."""
    if holder(case) is None or case.assigned_at is None:
        return None
    return case.assigned_at + ASSIGNMENT_TIMEOUT


def take_refusal(user: Any, case: Case, *, lead: bool | None = None) -> str | None:
    """Why ``user`` may not take ``case`` now (a sentence for them), or ``None``."""
    refusal = _route_refusal(user, case, lead)
    if refusal is not None:
        return refusal
    held = holder(case)
    if held is not None and held.pk != user.pk:
        return _(
            "%(name)s has taken this case; it is free again after %(minutes)s minutes "
            "without activity of theirs."
        ) % {"name": held.get_username(), "minutes": int(ASSIGNMENT_TIMEOUT.total_seconds() // 60)}
    return None


def _route_refusal(user: Any, case: Case, lead: bool | None) -> str | None:
    """Why ``case`` is not for ``user``, whoever holds it: closed, their own decision
    contested, their own escalation, or an escalation meant for someone else."""
    if case.state == Case.State.CLOSED:
        return _("This case is already closed.")
    if case.excluded_user_id is not None and case.excluded_user_id == user.pk:
        if case.kind == Case.Kind.APPEAL:
            return _("This appeal contests your own decision: another person must review it.")
        return _("You escalated this case: it is for someone else now.")
    if case.kind == Case.Kind.ESCALATION and case.escalated_to_id != user.pk:
        if lead is None:
            lead = is_lead(user, case.organization_id)
        if not lead:
            if case.escalated_to_id is None:
                return _("This case was escalated to the administrators.")
            return _("This case was escalated to %(name)s.") % {
                "name": case.escalated_to.get_username() if case.escalated_to else "?"
            }
    return None


def claim_case(actor: Actor, case: Case) -> bool:
    """Assign ``case`` to the actor unless someone else holds it or it is not for them
    (:func:`take_refusal`); True when the actor has it. Each claim renews the lock."""
    user = actor.user
    # Who holds it is read by the update below, from the database, not from ``case``.
    if _route_refusal(user, case, None) is not None:
        return False
    taken = (
        Case.objects.filter(pk=case.pk)
        .exclude(state=Case.State.CLOSED)
        .filter(_free() | Q(assignee=user))
        .update(state=Case.State.ASSIGNED, assignee=user, assigned_at=timezone.now())
    )
    if taken:
        case.refresh_from_db()
    return bool(taken)


def take_case(actor: Actor, case: Case) -> Case:
    """A person takes ``case`` explicitly (the case page's Take button): it is theirs until
    they decide, let it go, or stay away for :data:`ASSIGNMENT_TIMEOUT`."""
    refusal = take_refusal(actor.user, case)
    if refusal is not None:
        raise ModerationError(refusal)
    if not claim_case(actor, case):  # taken by someone else in the meantime
        raise ModerationError(_("Someone else took this case a moment ago."))
    return case


def take_over_case(actor: Actor, case: Case) -> Case:
    """An administrator takes a case another person holds (audited: its holder learns from
    the trail who took it and when)."""
    user = actor.user
    if not is_lead(user, case.organization_id):
        raise ModerationError(_("Only an administrator can take over a case someone holds."))
    if case.state == Case.State.CLOSED:
        raise ModerationError(_("This case is already closed."))
    if case.excluded_user_id is not None and case.excluded_user_id == user.pk:
        raise ModerationError(str(take_refusal(user, case, lead=True)))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        previous = holder(locked)
        before = {
            "assignee": previous.get_username() if previous is not None else None,
            "assigned_at": str(locked.assigned_at) if previous is not None else None,
        }
        locked.state = Case.State.ASSIGNED
        locked.assignee = user
        locked.assigned_at = timezone.now()
        locked.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
        # Recorded even when nobody held it: the administrator forced the way in.
        record(
            actor,
            AuditAction.MODERATION_CASE_TAKEN_OVER,
            organization=case.organization,
            obj=locked,
            before=before,
            after={"assignee": user.get_username(), "assigned_at": str(locked.assigned_at)},
        )
    case.refresh_from_db()
    return case


def touch_case(actor: Actor, case: Case) -> None:
    """The holder is at work on ``case`` (opened it, answered): their lock starts again."""
    Case.objects.filter(pk=case.pk, assignee=actor.user, state=Case.State.ASSIGNED).filter(
        assigned_at__gte=timezone.now() - ASSIGNMENT_TIMEOUT
    ).update(assigned_at=timezone.now())


def next_case(
    actor: Actor,
    organization: Organization,
    cases: QuerySet[Case],
    *,
    releasing: Case | None = None,
) -> Case | None:
    """Claim the next case of ``cases`` for the actor: two moderators never get the same one.

    ``releasing``: the case the actor skips, let go of first (someone else may take it).
    """
    if releasing is not None:
        release_case(actor, releasing)
    lead = is_lead(actor.user, organization.pk)
    for candidate in _available_to(actor.user, cases, lead).order_by(
        "-priority", "-severity", "created_at", "id"
    )[:20]:
        if claim_case(actor, candidate):
            return candidate
    return None


def release_case(actor: Actor, case: Case) -> None:
    Case.objects.filter(pk=case.pk, assignee=actor.user, state=Case.State.ASSIGNED).update(
        state=Case.State.OPEN, assignee=None, assigned_at=None
    )


#: The job that e-mails the people an escalation is for.
ESCALATION_EMAIL_TASK = "moderation.email_escalation"


def escalation_candidates(organization_id: int, user: Any) -> list[Membership]:
    """The members a case can be escalated to by ``user``: those who may decide, not them."""
    members = (
        Membership.objects.filter(organization_id=organization_id)
        .exclude(user=user)
        .select_related("user")
        .order_by("user__username")
    )
    return [m for m in members if m.allows(Capability.MODERATE)]


def escalations_for(actor: Actor, organization: Organization) -> QuerySet[Case]:
    """The open escalations meant for the actor: named, or to the leads when they are one."""
    user = actor.user
    meant = Q(escalated_to=user)
    if is_lead(user, organization.pk):
        meant |= Q(escalated_to__isnull=True)
    return (
        open_cases(organization)
        .filter(kind=Case.Kind.ESCALATION)
        .filter(meant)
        .exclude(excluded_user=user)
    )


def escalation_recipients(case: Case) -> list[Any]:
    """Who an escalation is for: the chosen member, or the leads (but not who escalated)."""
    if case.escalated_to_id is not None:
        return [case.escalated_to]
    leads = Membership.objects.filter(organization_id=case.organization_id).select_related("user")
    return [
        m.user for m in leads if m.allows(Capability.MANAGE) and m.user_id != case.excluded_user_id
    ]


def escalate_case(
    actor: Actor, case: Case, *, to: Any | None = None, note: str = "", category: str = ""
) -> Decision:
    """Send ``case`` to someone else (:func:`escalate_item`)."""
    if case.kind == Case.Kind.APPEAL:
        raise ModerationError(_("An appeal is decided by upholding or reversing the decision."))
    return escalate_item(actor, case.item, to=to, note=note, category=category, case=case)


def escalate_item(
    actor: Actor,
    item: Item,
    *,
    to: Any | None = None,
    note: str = "",
    category: str = "",
    case: Case | None = None,
) -> Decision:
    """Send ``item`` (its ``case`` when it comes from one) to someone else: ``to`` (a member
    who may decide) or, when ``None``, the organization's leads. Never back to oneself; those
    it is for are told by e-mail."""
    user = actor.user
    candidates = escalation_candidates(item.organization_id, user)
    if to is not None:
        if to.pk == user.pk:
            raise ModerationError(
                _(
                    "You cannot escalate a case to yourself: choose another member or the "
                    "administrators."
                )
            )
        if to.pk not in {m.user_id for m in candidates}:
            raise ModerationError(
                _("%(name)s cannot decide on cases here: choose a moderator or an administrator.")
                % {"name": to.get_username()}
            )
    elif not any(m.allows(Capability.MANAGE) for m in candidates):
        raise ModerationError(
            _("There is no other administrator: choose the member to escalate this case to.")
        )
    with transaction.atomic():
        if case is not None:
            decision = decide_case(
                actor, case, Decision.Action.ESCALATE, category=category, note=note
            )
        else:
            decision = decide(actor, item, Decision.Action.ESCALATE, category=category, note=note)
        escalation = Case.objects.select_for_update().get(
            item_id=item.pk,
            kind=Case.Kind.ESCALATION,
            state__in=[Case.State.OPEN, Case.State.ASSIGNED],
        )
        # Nobody holds it: it waits for the person (or the leads) it is for to take it.
        escalation.escalated_to = to
        escalation.excluded_user = user
        escalation.state = Case.State.OPEN
        escalation.assignee = None
        escalation.assigned_at = None
        escalation.save(
            update_fields=[
                "escalated_to",
                "excluded_user",
                "state",
                "assignee",
                "assigned_at",
                "updated_at",
            ]
        )
        if relay_configured():
            enqueue(
                ESCALATION_EMAIL_TASK,
                {"case_id": escalation.pk, "decision_id": decision.pk},
                organization=item.organization,
                dedupe_key=f"{ESCALATION_EMAIL_TASK}:{decision.pk}",
            )
    return decision


def _close_cases(item: Item, resolution: Decision, kinds: Sequence[str] | None = None) -> None:
    cases = Case.objects.filter(item=item).exclude(state=Case.State.CLOSED)
    if kinds is not None:
        cases = cases.filter(kind__in=kinds)
    cases.update(
        state=Case.State.CLOSED,
        closed_at=timezone.now(),
        resolution=resolution,
        updated_at=timezone.now(),
    )


# --- a person's decisions ----------------------------------------------------------------------


@dataclass
class BulkOutcome:
    """What a decision on a selection of cases did: decided, held by someone else, closed or
    appeals (left as they are), and the refusals (``#case: why``)."""

    done: int = 0
    held: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


def decide_case(
    actor: Actor,
    case: Case,
    action: str,
    *,
    category: str = "",
    note: str = "",
    reply_text: str = "",
) -> Decision:
    """A person's decision on the item of an open review or escalation case they can hold."""
    if case.state == Case.State.CLOSED:
        raise ModerationError(_("This case is already closed."))
    if case.kind == Case.Kind.APPEAL:
        raise ModerationError(_("An appeal is decided by upholding or reversing the decision."))
    if not claim_case(actor, case):
        raise ModerationError(
            take_refusal(actor.user, case) or _("Someone else is working on this case.")
        )
    return decide(actor, case.item, action, category=category, note=note, reply_text=reply_text)


def reply_to_item(actor: Actor, item: Item, text: str) -> Decision:
    """Answer the author in the organization's name (the publisher role's part): a reply,
    recorded and audited as any decision, sent to the platform by a job; it settles
    nothing (the item's case, if any, stays open)."""
    return decide(actor, item, Decision.Action.REPLY, reply_text=text)


def decide_cases(actor: Actor, cases: Iterable[Case], action: str, note: str = "") -> BulkOutcome:
    """The same decision on each selected case that nobody else holds (the queue's bulk
    action); closed cases and appeals are left as they are, each decision is recorded."""
    outcome = BulkOutcome()
    for case in cases:
        if case.state == Case.State.CLOSED or case.kind == Case.Kind.APPEAL:
            outcome.skipped += 1
            continue
        if not claim_case(actor, case):
            outcome.held += 1
            continue
        try:
            decide(actor, case.item, action, note=note)
        except ModerationError as exc:
            outcome.failures.append(f"#{case.pk}: {exc}")
            continue
        outcome.done += 1
    return outcome


def _proposal(item: Item) -> Decision | None:
    return (
        Decision.objects.filter(item=item, status=Decision.Status.PROPOSED)
        .order_by("-created_at", "-id")
        .first()
    )


def _requested(item: Item, action: str) -> bool:
    """The same restriction, in force, still waits for the platform."""
    return Decision.objects.filter(
        item=item,
        action=action,
        status=Decision.Status.APPLIED,
        platform_status=Decision.PlatformStatus.PENDING,
    ).exists()


def decide(
    actor: Actor,
    item: Item,
    action: str,
    *,
    category: str = "",
    note: str = "",
    reply_text: str = "",
) -> Decision:
    """A person's decision on ``item``: keep, hide, delete, escalate, reply or report."""
    if action not in PERSON_ACTIONS:
        raise ModerationError(_("Unknown action: %(action)s") % {"action": action})
    if action == Decision.Action.REPLY and not reply_text.strip():
        raise ModerationError(_("A reply needs a text."))
    if action in RESTRICTIVE and item.visibility == Item.Visibility.DELETED:
        raise ModerationError(_("This item is already deleted."))
    with transaction.atomic():
        item = Item.objects.select_for_update().select_related("source", "author").get(pk=item.pk)
        proposal = _proposal(item)
        automated = proposal if proposal is not None else None
        chosen_category = category or (automated.category if automated else "")
        live, _shadow = charter_policies(item.organization)
        snap = _snapshot_category(live, chosen_category) if live else {}
        decision = Decision(
            organization_id=item.organization_id,
            item=item,
            action=action,
            category=chosen_category,
            clause=snap.get("clause", ""),
            automated=False,
            actor=actor.user,
            note=note,
            reply_text=reply_text,
            charter_version=live.version if live else None,
            charter_snapshot=snap,
            scores=automated.scores if automated else {},
            score=automated.score if automated else None,
            detectors=automated.detectors if automated else {},
            explanation=automated.explanation if automated else [],
            status=Decision.Status.APPLIED,
        )
        if automated is not None:
            # The person confirms (or overrides) what the detectors proposed.
            decision.confirmed_by = actor.user
            decision.confirmed_at = timezone.now()
            automated.status = Decision.Status.SUPERSEDED
            automated.save(update_fields=["status"])
        before = snapshot(item, ["visibility", "state"])
        if action in RESTRICTIVE:
            if _requested(item, action):
                raise ModerationError(
                    _("This action was already requested: it waits for the platform.")
                )
            # The item is hidden or deleted only once the platform did it (platform.py).
            decision.evidence = evidence_store.preserve(item, actor.user)
        if action in (
            Decision.Action.HIDE,
            Decision.Action.DELETE,
            Decision.Action.REPLY,
            Decision.Action.REPORT,
        ):
            decision.platform_status = Decision.PlatformStatus.PENDING
        decision.save()
        if action == Decision.Action.ESCALATE:
            _close_cases(item, decision, kinds=[Case.Kind.REVIEW])
            _open_case(
                item,
                Case.Kind.ESCALATION,
                decision=decision,
                category=chosen_category,
                priority=5,
                severity=int(snap.get("severity") or 0),
                score=decision.score,
                reason=note or _("Escalated by %(name)s") % {"name": actor.name},
            )
            item.state = Item.State.IN_REVIEW
        elif action in (Decision.Action.REPLY, Decision.Action.REPORT):
            pass  # answering or reporting does not settle the case by itself
        else:
            _close_cases(item, decision, kinds=[Case.Kind.REVIEW, Case.Kind.ESCALATION])
            item.state = Item.State.DONE
        item.save(update_fields=["visibility", "state"])
        record(
            actor,
            moderation_action(action),
            organization=item.organization,
            obj=decision,
            before=before,
            after={**snapshot(item, ["visibility", "state"]), "decision": decision.pk},
        )
        if decision.platform_status == Decision.PlatformStatus.PENDING:
            request_platform_action(decision)
    return decision


def undo_and_reopen(actor: Actor, decision: Decision) -> tuple[Decision, Case | None]:
    """Undo ``decision`` (:func:`undo`) and claim the review it reopened, if any, so that the
    moderator goes straight back to it; returns the reversal and that case."""
    reversal = undo(actor, decision)
    reopened = (
        open_cases(decision.organization)
        .filter(item_id=decision.item_id)
        .exclude(kind=Case.Kind.APPEAL)
        .order_by("-priority", "created_at")
        .first()
    )
    if reopened is not None and claim_case(actor, reopened):
        return reversal, reopened
    return reversal, None


def undo(actor: Actor, decision: Decision, note: str = "") -> Decision:
    """A person undoes a decision (:attr:`Decision.undoable`): a hidden item is restored (on
    the platform where it allows it), the review a keep or an escalation closed reopens."""
    return _reverse(actor, decision, note, reopen=True)


def _reverse(actor: Actor, decision: Decision, note: str, *, reopen: bool) -> Decision:
    """Reverse a decision in force. ``reopen=False`` (an appeal reversed: the matter is
    settled, automatic decisions included) reopens nothing; otherwise only what a person may
    undo is reversed."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if decision.status != Decision.Status.APPLIED:
            raise ModerationError(_("Only an applied decision can be undone."))
        if reopen and not decision.undoable:
            raise ModerationError(
                _("This decision cannot be undone: an automatic one is contested by an appeal.")
                if decision.automated
                else _("This decision cannot be undone.")
            )
        item = (
            Item.objects.select_for_update()
            .select_related("source", "author")
            .get(pk=decision.item_id)
        )
        before = snapshot(item, ["visibility", "state"])
        reversal = Decision(
            organization_id=item.organization_id,
            item=item,
            action=Decision.Action.UNHIDE
            if decision.action in RESTRICTIVE
            else Decision.Action.QUEUE,
            category=decision.category,
            clause=decision.clause,
            actor=actor.user,
            note=note,
            reverses=decision,
            charter_version=decision.charter_version,
            charter_snapshot=decision.charter_snapshot,
            status=Decision.Status.APPLIED,
        )
        if decision.action in RESTRICTIVE and decision.took_effect:
            # Restored once the platform restores it (a deleted item rarely comes back; the
            # platform says whether it can). A restriction that never took effect needs no
            # platform action: a pending one is not sent (tasks.platform_action_task).
            reversal.platform_status = Decision.PlatformStatus.PENDING
        reversal.save()
        decision.status = Decision.Status.UNDONE
        decision.save(update_fields=["status"])
        # A keep or an escalation undone goes back to review; so does a hide taken from the
        # queue (undoing it means the moderator wants to look again), not an automatic one.
        closed = Case.objects.filter(resolution=decision).order_by("-id").first()
        if reopen and (decision.action not in RESTRICTIVE or closed is not None):
            _open_case(
                item,
                Case.Kind.REVIEW,
                decision=decision,
                category=decision.category,
                score=decision.score,
                severity=closed.severity if closed is not None else 0,
                priority=closed.priority if closed is not None else 0,
                reason=_("Reopened by %(name)s") % {"name": actor.name},
            )
            item.state = Item.State.IN_REVIEW
        item.save(update_fields=["visibility", "state"])
        record(
            actor,
            AuditAction.MODERATION_UNDO,
            organization=item.organization,
            obj=decision,
            before=before,
            after={**snapshot(item, ["visibility", "state"]), "reversal": reversal.pk},
        )
        if reversal.platform_status == Decision.PlatformStatus.PENDING:
            request_platform_action(reversal)
    return reversal


def retry_platform_action(actor: Actor, decision: Decision) -> Decision:
    """Send a decision the platform refused to the platform again (after the account was
    reconnected, or the platform fixed): pending again, one more job, audited."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        if not decision.retryable:
            raise ModerationError(_("Only an action the platform refused can be tried again."))
        before = {
            "platform_status": decision.platform_status,
            "detail": str((decision.platform_result or {}).get("detail") or "")[:500],
        }
        decision.platform_status = Decision.PlatformStatus.PENDING
        # The refusal is kept as what came before; the next answer replaces it.
        decision.platform_result = {
            "previous": dict(decision.platform_result or {}),
            "retry_requested_at": timezone.now().isoformat(),
        }
        decision.save(update_fields=["platform_status", "platform_result"])
        record(
            actor,
            AuditAction.PLATFORM_RETRY_REQUESTED,
            organization=decision.organization,
            obj=decision,
            before=before,
            after={"action": decision.action, "platform_status": decision.platform_status},
        )
        request_platform_action(decision)
    return decision


def last_undoable(actor: Actor, organization: Organization) -> Decision | None:
    """The actor's latest decision that can still be undone (the queue's undo key)."""
    return (
        Decision.objects.filter(
            organization=organization,
            actor=actor.user,
            status=Decision.Status.APPLIED,
            automated=False,
            action__in=UNDOABLE_ACTIONS,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def decide_many(
    actor: Actor, items: Sequence[Item], action: str, *, category: str = "", note: str = ""
) -> list[Decision]:
    """The same decision on a selection (bulk action); each one is recorded on its own."""
    return [decide(actor, item, action, category=category, note=note) for item in items]


# --- appeals -----------------------------------------------------------------------------------


def file_appeal(actor: Actor, decision: Decision, statement: str, received_via: str = "") -> Appeal:
    """Record an author's contestation and put it before someone other than the decider."""
    if not statement.strip():
        raise ModerationError(_("Write down what the author says."))
    if (
        decision.status == Decision.Status.APPLIED
        and decision.action
        in (
            Decision.Action.HIDE,
            Decision.Action.DELETE,
        )
        and not decision.restricts
    ):
        raise ModerationError(
            _(
                "The platform did not carry out this restriction (%(effect)s): there is "
                "nothing to appeal. Send it again or undo the decision."
            )
            % {"effect": decision.get_platform_effect_display()}
        )
    if not decision.restricts:
        raise ModerationError(_("Only a hide or a deletion in force can be appealed."))
    with transaction.atomic():
        # Locked, so that two agents filing at once cannot both pass the check below.
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.has_pending_appeal:
            raise ModerationError(
                _("An appeal against this decision already waits for a moderator.")
            )
        appeal = Appeal.objects.create(
            organization_id=decision.organization_id,
            decision=decision,
            statement=statement,
            received_via=received_via,
            entered_by=actor.user if getattr(actor.user, "is_authenticated", False) else None,
        )
        decider = decision.confirmed_by_id or decision.actor_id
        _open_case(
            decision.item,
            Case.Kind.APPEAL,
            decision=decision,
            appeal=appeal,
            category=decision.category,
            priority=4,
            score=decision.score,
            excluded_user_id=decider,
            reason=_("Appeal against a decision"),
        )
        record(
            actor,
            AuditAction.MODERATION_APPEAL_FILED,
            organization=decision.organization,
            obj=appeal,
            after=snapshot(appeal),
        )
    return appeal


def decide_appeal_case(actor: Actor, case: Case, outcome: str, note: str) -> Appeal:
    """Uphold or reverse the decision an appeal case contests, from the case; the person who
    took the decision cannot (:func:`decide_appeal` says so) and others must hold the case."""
    if case.kind != Case.Kind.APPEAL or case.appeal is None:
        raise ModerationError(_("This case is not an appeal."))
    if case.state == Case.State.CLOSED:
        raise ModerationError(_("This case is already closed."))
    excluded = case.excluded_user_id is not None and case.excluded_user_id == actor.user.pk
    if not excluded and not claim_case(actor, case):
        raise ModerationError(_("Someone else is working on this case."))
    return decide_appeal(actor, case.appeal, outcome, note)


def decide_appeal(actor: Actor, appeal: Appeal, outcome: str, note: str) -> Appeal:
    """Uphold or reverse the contested decision; the decider cannot judge their own appeal."""
    if outcome not in (Appeal.Outcome.UPHELD, Appeal.Outcome.REVERSED):
        raise ModerationError(_("Choose whether the decision is upheld or reversed."))
    if not note.strip():
        raise ModerationError(_("Give the reasons of the outcome."))
    decision = appeal.decision
    decider = decision.confirmed_by_id or decision.actor_id
    if decider is not None and decider == actor.user.pk:
        raise ModerationError(_("Another person must review an appeal against your decision."))
    if appeal.outcome != Appeal.Outcome.PENDING:
        raise ModerationError(_("This appeal has already been decided."))
    with transaction.atomic():
        before = snapshot(appeal)
        resolution: Decision | None = None
        if outcome == Appeal.Outcome.REVERSED:
            resolution = _reverse(actor, decision, note, reopen=False)
            Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.OVERTURNED)
        appeal.outcome = outcome
        appeal.outcome_note = note
        appeal.decided_by = actor.user
        appeal.decided_at = timezone.now()
        appeal.save()
        Case.objects.filter(appeal=appeal).exclude(state=Case.State.CLOSED).update(
            state=Case.State.CLOSED, closed_at=timezone.now(), resolution=resolution
        )
        item = decision.item
        if not open_cases(item.organization).filter(item=item).exists():
            Item.objects.filter(pk=item.pk).update(state=Item.State.DONE)
        record(
            actor,
            AuditAction.MODERATION_APPEAL_DECIDED,
            organization=decision.organization,
            obj=appeal,
            before=before,
            after=snapshot(appeal),
        )
    return appeal
