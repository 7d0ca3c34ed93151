"""The desk's only writers: conversations made from the items as they arrive, and what people
do with them (assign, change state or team, label, snooze, note, reply).

Every change checks its rule here, writes, records the conversation's history and the audit
trail. Replies are sent by a job (:mod:`beffroi.conversations.sending`), never in the request.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.connectors import webhook
from beffroi.connectors.base import Action, ConfigurationError
from beffroi.connectors.registry import connector_class
from beffroi.conversations.models import (
    DEFAULT_TEAMS,
    Conversation,
    ConversationEvent,
    IntakeCursor,
    Note,
    Presence,
    Reply,
    RequestSystem,
    RoutingRule,
    SavedReply,
    Team,
)
from beffroi.conversations.queue import request_mention_notice, request_send
from beffroi.conversations.signals import reply_needs_approval, reply_posted, reply_recorded
from beffroi.conversations.sla import breached_filter
from beffroi.core.logging import redact
from beffroi.items.models import Item
from beffroi.organizations.models import Membership, Organization
from beffroi.sources.forms import platform_label
from beffroi.sources.models import Source

State = Conversation.State

#: The kinds of items that make or continue a conversation (posts are the organization's,
#: or the veille's when found by a watch).
CONVERSATION_KINDS = (Item.Kind.COMMENT, Item.Kind.REPLY, Item.Kind.MESSAGE, Item.Kind.MENTION)

#: The states a person may move a conversation to, from each state.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.NEW: (State.OPEN, State.WAITING, State.ANSWERED, State.RESOLVED, State.CLOSED),
    State.OPEN: (State.WAITING, State.ANSWERED, State.RESOLVED, State.CLOSED),
    State.WAITING: (State.OPEN, State.ANSWERED, State.RESOLVED, State.CLOSED),
    State.ANSWERED: (State.OPEN, State.WAITING, State.RESOLVED, State.CLOSED),
    State.RESOLVED: (State.OPEN, State.CLOSED),
    State.CLOSED: (State.OPEN,),
}

#: How long a presence counts ("Claire is replying") without a new heartbeat.
PRESENCE_SECONDS = 45

#: Items read per batch when making conversations.
BATCH_SIZE = 500

MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


class DeskError(Exception):
    """A refused action, with a sentence for the person (translated)."""


# --- conversations from the items ------------------------------------------------------------


def ensure_default_teams(organization: Organization) -> list[Team]:
    """The usual services of a town, for an organization that has no team yet."""
    if Team.objects.filter(organization=organization).exists():
        return list(Team.objects.filter(organization=organization))
    return [
        Team.objects.create(organization=organization, slug=slug, name=name)
        for slug, name in DEFAULT_TEAMS
    ]


#: The settings in which a connected account names itself on its platform.
ACCOUNT_ID_SETTINGS = ("page_id", "account_id", "user_id", "ig_user_id", "channel_id", "did")


def _known_own_ids(source: Source) -> tuple[str, ...]:
    """The ids the source's connector knows for sure are its own account (see
    :meth:`beffroi.connectors.base.Connector.own_account_ids`)."""
    try:
        connector = connector_class(source.platform)
    except ConfigurationError:  # no connector for this platform
        return ()
    settings = source.settings if isinstance(source.settings, dict) else {}
    cursor = source.cursor if isinstance(source.cursor, dict) else {}
    return connector.own_account_ids(settings, cursor)


def own_author_ids(organization: Organization) -> set[int]:
    """The organization's own accounts (a reply by one of them is the organization
    answering): the account each connected source names in its settings or its connector
    knows for sure (verified with the platform, or named for it), and whoever publishes the
    posts of a connected account whose connector knows neither. A source that knows its
    account may also read others' posts (hashtags, searches, others' channels): their
    authors are not the organization."""
    accounts = Source.objects.filter(organization=organization, kind=Source.Kind.ACCOUNT)
    named = Q()
    unknown: list[int] = []
    for source in accounts.only("pk", "platform", "settings", "cursor"):
        settings = source.settings if isinstance(source.settings, dict) else {}
        for name in ACCOUNT_ID_SETTINGS:
            if settings.get(name):
                named |= Q(platform=source.platform, platform_id=str(settings[name]))
        known = _known_own_ids(source)
        for account_id in known:
            named |= Q(platform=source.platform, platform_id=account_id)
        if not known:
            unknown.append(source.pk)
    own = set(
        Item.objects.filter(organization=organization, kind=Item.Kind.POST, source_id__in=unknown)
        .order_by()  # the items' default order would enter the DISTINCT and scan them all
        .values_list("author_id", flat=True)
        .distinct()
    )
    if named:
        from beffroi.items.models import Author

        own |= set(
            Author.objects.filter(organization=organization)
            .filter(named)
            .values_list("pk", flat=True)
        )
    return own


def attach_new_items(organization: Organization) -> int:
    """Put the items that arrived since the last call into their conversations (made when
    needed); returns the items attached. Idempotent: a batch is read again after a crash and
    an item joins a conversation once."""
    cursor, _made = IntakeCursor.objects.get_or_create(organization=organization)
    attached = 0
    own = own_author_ids(organization)
    while True:
        batch = list(
            Item.objects.filter(organization=organization, pk__gt=cursor.last_item_id)
            .select_related("author", "source", "parent")
            .order_by("pk")[:BATCH_SIZE]
        )
        if not batch:
            return attached
        with transaction.atomic():
            # In the order they were written on the platform: an answer after its question.
            for item in sorted(batch, key=lambda i: (i.created_at, i.pk)):
                attached += int(_attach(organization, item, own))
            cursor.last_item_id = batch[-1].pk
            cursor.save(update_fields=["last_item_id"])


def _ancestors(item: Item) -> Iterator[Item]:
    """The items ``item`` answers, nearest first, up to its post (a loop in broken data
    ends the walk)."""
    seen = {item.pk}
    parent = item.parent
    while parent is not None and parent.pk not in seen:
        yield parent
        seen.add(parent.pk)
        parent = parent.parent


def _conversation_of_ancestors(organization: Organization, item: Item) -> Conversation | None:
    """The conversation of the nearest ancestor of ``item`` that has one."""
    for parent in _ancestors(item):
        found = Conversation.objects.filter(organization=organization, items=parent).first()
        if found is not None:
            return found
    return None


def _thread_root(item: Item) -> Item:
    """The citizen's first-level comment a reply belongs to (or the item itself)."""
    root = item
    for parent in _ancestors(item):
        if parent.kind == Item.Kind.POST:
            break
        root = parent
    return root


def conversation_key(item: Item) -> tuple[str, Item]:
    """The key of the conversation a citizen's item opens or continues, and its root item."""
    if item.kind == Item.Kind.MESSAGE:
        return f"private:{item.source_id}:{item.author.platform_id}", item
    root = _thread_root(item)
    return f"public:{item.source_id}:{root.platform_id}", root


def takes_part(item: Item, own: set[int]) -> bool:
    """Whether the organization takes part in the exchange ``item`` belongs to: everything its
    own accounts and imports bring (comments under its posts, its messages, mentions of it);
    from a watch over the wider network, a mention, or a thread where the organization wrote
    (its post, or an answer above this item) or that a mention of it started — not the
    threads of others that a watch happens to read."""
    if item.source.kind != Source.Kind.WATCH or item.kind in (
        Item.Kind.MENTION,
        Item.Kind.MESSAGE,
    ):
        return True
    return any(
        parent.author_id in own or parent.kind == Item.Kind.MENTION for parent in _ancestors(item)
    )


def _attach(organization: Organization, item: Item, own: set[int]) -> bool:
    if item.kind not in CONVERSATION_KINDS or not takes_part(item, own):
        return False
    if item.author_id in own:
        conversation = _conversation_of_ancestors(organization, item)
        if conversation is None or conversation.items.filter(pk=item.pk).exists():
            return False
        _organization_answered(conversation, item)
        return True
    key, root = conversation_key(item)
    conversation = Conversation.objects.filter(organization=organization, key=key).first()
    if conversation is None:
        conversation = Conversation.objects.create(
            organization=organization,
            key=key,
            kind=Conversation.Kind.PRIVATE
            if item.kind == Item.Kind.MESSAGE
            else Conversation.Kind.PUBLIC,
            source=item.source,
            platform=item.platform,
            author=root.author,
            root=root,
            subject=" ".join(root.text.split())[:200],
            opened_at=root.created_at,
            last_citizen_at=item.created_at,
        )
        ConversationEvent.objects.create(conversation=conversation, kind="created")
        if root.pk != item.pk:
            conversation.items.add(root)
    elif conversation.items.filter(pk=item.pk).exists():
        return False
    else:
        _citizen_wrote(conversation, item)
    conversation.items.add(item)
    Conversation.objects.filter(pk=conversation.pk).update(message_count=conversation.items.count())
    return True


def _citizen_wrote(conversation: Conversation, item: Item) -> None:
    """A new message from the citizen (or another person in the thread): the clock runs
    again, and a conversation that was answered, resolved or closed is reopened."""
    before = conversation.state
    conversation.last_citizen_at = max(conversation.last_citizen_at, item.created_at)
    conversation.snoozed_until = None
    _end_pause(conversation, item.created_at)
    if conversation.state in (State.WAITING, State.ANSWERED, State.RESOLVED, State.CLOSED):
        conversation.state = State.OPEN if conversation.assignee_id else State.NEW
        conversation.resolved_at = None
    conversation.save()
    kind = ConversationEvent.Kind.REOPENED if before != conversation.state else "message"
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=kind,
        before={"state": before},
        after={"state": conversation.state, "item": item.pk},
    )


def _organization_answered(conversation: Conversation, item: Item) -> None:
    """The organization's account wrote in the conversation (from Beffroi or not)."""
    conversation.items.add(item)
    conversation.responded(item.created_at)
    conversation.message_count = conversation.items.count()
    conversation.save()


# --- the response-time clock's pauses ---------------------------------------------------------


def _start_pause(conversation: Conversation, at: datetime) -> None:
    pauses = list(conversation.pauses or [])
    if pauses and pauses[-1][1] is None:
        return
    pauses.append([at.isoformat(), None])
    conversation.pauses = pauses


def _end_pause(conversation: Conversation, at: datetime) -> None:
    pauses = list(conversation.pauses or [])
    if pauses and pauses[-1][1] is None:
        start = datetime.fromisoformat(pauses[-1][0])
        pauses[-1] = [pauses[-1][0], max(at, start).isoformat()]
        conversation.pauses = pauses


def pause_intervals(conversation: Conversation) -> list[tuple[datetime, datetime | None]]:
    return [
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in (conversation.pauses or [])
    ]


# --- what people do -------------------------------------------------------------------------


def _changed(
    actor: Actor,
    conversation: Conversation,
    kind: str,
    before: dict[str, Any],
    after: dict[str, Any],
    action: AuditAction,
) -> None:
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=kind,
        actor=actor.user if getattr(actor.user, "is_authenticated", False) else None,
        before=before,
        after=after,
    )
    record(
        actor,
        action,
        organization=conversation.organization,
        obj=conversation,
        before=before,
        after=after,
    )


def members(organization: Organization) -> Any:
    """The organization's members (whom a conversation may be assigned to, or mentioned)."""
    return (
        get_user_model().objects.filter(memberships__organization=organization).order_by("username")
    )


def assign(actor: Actor, conversation: Conversation, user: Any | None) -> Conversation:
    """Give the conversation to a member (``None``: to nobody); a new one becomes open."""
    if (
        user is not None
        and not Membership.objects.filter(
            organization=conversation.organization, user=user
        ).exists()
    ):
        raise DeskError(_("Only a member of the organization can be assigned a conversation."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before = {"assignee": _name(locked.assignee), "state": locked.state}
        locked.assignee = user
        if user is not None and locked.state == State.NEW:
            locked.state = State.OPEN
        locked.save()
        after = {"assignee": _name(user), "state": locked.state}
        _changed(actor, locked, "assigned", before, after, AuditAction.CONVERSATION_ASSIGN)
    return locked


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def set_team(actor: Actor, conversation: Conversation, team: Team | None) -> Conversation:
    if team is not None and team.organization_id != conversation.organization_id:
        raise DeskError(_("This team belongs to another organization."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before = {"team": locked.team.slug if locked.team else None}
        locked.team = team
        locked.save()
        after = {"team": team.slug if team else None}
        _changed(actor, locked, "team", before, after, AuditAction.CONVERSATION_TEAM)
    return locked


def set_state(actor: Actor, conversation: Conversation, state: str) -> Conversation:
    """Move the conversation to ``state`` if its current state allows it (TRANSITIONS)."""
    if state not in State.values:
        raise DeskError(_("Unknown state."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if state == locked.state:
            return locked
        if state not in TRANSITIONS[locked.state]:
            raise DeskError(
                _("A conversation %(before)s cannot become %(after)s.")
                % {
                    "before": State(locked.state).label.lower(),
                    "after": State(state).label.lower(),
                }
            )
        now = timezone.now()
        before = {"state": locked.state}
        if locked.state == State.WAITING:
            _end_pause(locked, now)
        if state == State.WAITING:
            _start_pause(locked, now)
        locked.resolved_at = now if state in (State.RESOLVED, State.CLOSED) else None
        if state in (State.RESOLVED, State.CLOSED):
            _end_pause(locked, now)
        locked.state = state
        locked.snoozed_until = None
        locked.save()
        _changed(actor, locked, "state", before, {"state": state}, AuditAction.CONVERSATION_STATE)
    return locked


def mark_request(actor: Actor, conversation: Conversation, is_request: bool) -> Conversation:
    """A person says whether the conversation is a request or complaint for the
    organization (what the router learns from)."""
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before = {"is_request": locked.is_request, "request_service": locked.request_service}
        locked.is_request = is_request
        if not is_request:
            locked.request_service = ""
        locked.request_checked_by = (
            actor.user if getattr(actor.user, "is_authenticated", False) else None
        )
        locked.save()
        _changed(
            actor,
            locked,
            "request",
            before,
            {"is_request": is_request},
            AuditAction.CONVERSATION_REQUEST,
        )
    return locked


def set_labels(actor: Actor, conversation: Conversation, labels: Iterable[str]) -> Conversation:
    clean = sorted({" ".join(label.split())[:40] for label in labels if label.strip()})
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before = {"labels": list(locked.labels or [])}
        locked.labels = clean
        locked.save()
        _changed(
            actor, locked, "labels", before, {"labels": clean}, AuditAction.CONVERSATION_LABELS
        )
    return locked


def snooze(actor: Actor, conversation: Conversation, until: datetime | None) -> Conversation:
    """Hide the conversation from the lists until ``until`` (``None``: wake it now); a new
    message from the citizen wakes it too."""
    if until is not None and until <= timezone.now():
        raise DeskError(_("Snooze until a moment in the future."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before = {"snoozed_until": _iso(locked.snoozed_until)}
        locked.snoozed_until = until
        locked.save()
        after = {"snoozed_until": _iso(until)}
        _changed(actor, locked, "snoozed", before, after, AuditAction.CONVERSATION_SNOOZE)
    return locked


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def add_note(actor: Actor, conversation: Conversation, text: str) -> Note:
    """An internal note; the members it @mentions are notified."""
    if not text.strip():
        raise DeskError(_("Write the note first."))
    handles = {match.casefold() for match in MENTION.findall(text)}
    mentioned = [
        user for user in members(conversation.organization) if user.username.casefold() in handles
    ]
    with transaction.atomic():
        note = Note.objects.create(
            conversation=conversation,
            author=actor.user if getattr(actor.user, "is_authenticated", False) else None,
            text=text.strip(),
        )
        note.mentions.set(mentioned)
        _changed(
            actor,
            conversation,
            "note",
            {},
            {"note": note.pk, "mentions": [user.username for user in mentioned]},
            AuditAction.CONVERSATION_NOTE,
        )
        if mentioned:
            note_id = note.pk
            transaction.on_commit(lambda: request_mention_notice(note_id))
    return note


def bulk(actor: Actor, conversations: Iterable[Conversation], action: str, value: Any) -> int:
    """The same change on several conversations (assign, team, label, close); each is
    checked and recorded on its own; returns how many changed."""
    changed = 0
    for conversation in conversations:
        if action == "assign":
            assign(actor, conversation, value)
        elif action == "team":
            set_team(actor, conversation, value)
        elif action == "label":
            set_labels(actor, conversation, [*conversation.labels, value])
        elif action == "close":
            if State.CLOSED not in TRANSITIONS[conversation.state]:
                continue
            set_state(actor, conversation, State.CLOSED)
        else:
            raise DeskError(_("Unknown action."))
        changed += 1
    return changed


# --- presence -------------------------------------------------------------------------------


def touch_presence(conversation: Conversation, user: Any, activity: str) -> None:
    Presence.objects.update_or_create(
        conversation=conversation,
        user=user,
        defaults={"activity": activity, "seen_at": timezone.now()},
    )


def others_present(conversation: Conversation, user: Any) -> list[Presence]:
    """The other people on the conversation lately, those writing a reply first."""
    since = timezone.now() - timedelta(seconds=PRESENCE_SECONDS)
    return sorted(
        Presence.objects.filter(conversation=conversation, seen_at__gte=since)
        .exclude(user=user)
        .select_related("user"),
        key=lambda p: (p.activity != Presence.Activity.REPLYING, p.user.username),
    )


# --- saved replies ---------------------------------------------------------------------------

#: The variables a saved reply may use, and what fills them.
VARIABLES = ("prénom", "service", "délai", "lien", "date", "contact")
#: What an acknowledgement of receipt must say (CRPA R112-5): when the request was received,
#: which service handles it, how to reach it, the delay.
ACKNOWLEDGEMENT_VARIABLES = ("date", "service", "contact", "délai")


def template_variables(text: str) -> set[str]:
    return set(re.findall(r"\{([^{}\s]+)\}", text))


def check_saved_reply(text: str, acknowledgement: bool) -> None:
    unknown = sorted(template_variables(text) - set(VARIABLES))
    if unknown:
        raise DeskError(
            _("Unknown variables: %(names)s. Use %(known)s.")
            % {
                "names": ", ".join(f"{{{n}}}" for n in unknown),
                "known": ", ".join(f"{{{n}}}" for n in VARIABLES),
            }
        )
    missing = [name for name in ACKNOWLEDGEMENT_VARIABLES if f"{{{name}}}" not in text]
    if acknowledgement and missing:
        raise DeskError(
            _(
                "An acknowledgement of receipt must give the date of receipt, the service "
                "handling the request, how to reach it and the expected delay: add %(names)s."
            )
            % {"names": ", ".join(f"{{{n}}}" for n in missing)}
        )


def save_saved_reply(
    actor: Actor, organization: Organization, saved: SavedReply, values: dict[str, Any]
) -> SavedReply:
    check_saved_reply(values["text"], bool(values.get("acknowledgement")))
    before = snapshot(saved) if saved.pk else None
    for name, value in values.items():
        setattr(saved, name, value)
    saved.organization = organization
    saved.save()
    record(
        actor,
        AuditAction.SAVED_REPLY_SAVE,
        organization=organization,
        obj=saved,
        before=before,
        after=snapshot(saved),
    )
    return saved


def delete_saved_reply(actor: Actor, saved: SavedReply) -> None:
    before = snapshot(saved)
    organization = saved.organization
    saved.delete()
    record(actor, AuditAction.SAVED_REPLY_DELETE, organization=organization, before=before)


def render_saved_reply(
    saved: SavedReply, conversation: Conversation, delay: str = ""
) -> tuple[str, list[str]]:
    """The saved reply's text for this conversation, and the variables left unfilled (the
    person writes them in before sending)."""
    author = conversation.author
    first_name = (author.display_name or "").split(" ")[0] if author.display_name else ""
    team = conversation.team or saved.team
    opened = timezone.localtime(conversation.opened_at)
    values = {
        "prénom": first_name,
        "service": team.name if team else "",
        "délai": delay,
        "lien": conversation.root.url or "",
        "date": opened.strftime("%d/%m/%Y"),
        "contact": team.email if team and team.email else "",
    }
    missing = sorted(name for name in template_variables(saved.text) if not values.get(name))

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1)) or match.group(0)

    return re.sub(r"\{([^{}\s]+)\}", fill, saved.text), missing


# --- replies --------------------------------------------------------------------------------


def new_reply_key() -> str:
    """The key a reply form carries: one per draft, so that sending twice sends once."""
    return secrets.token_urlsafe(24)


def private_reply_allowed(conversation: Conversation) -> bool:
    """Whether a reply may go in private: a public comment on a platform whose connector sends
    private replies, as its source is set up (a private conversation is private already)."""
    if conversation.kind == Conversation.Kind.PRIVATE:
        return False
    try:
        connector = connector_class(conversation.platform)
    except ConfigurationError:  # no connector for this platform
        return False
    settings = (
        conversation.source.settings if isinstance(conversation.source.settings, dict) else {}
    )
    return connector.allows(Action.PRIVATE_REPLY, settings)


def send_reply(
    actor: Actor,
    conversation: Conversation,
    text: str,
    *,
    key: str,
    private: bool = False,
    saved_reply: SavedReply | None = None,
    resolve: bool = False,
    drafted_from: str = "",
) -> Reply:
    """Record a reply as *sending* and ask for it to be sent. A second call with the same
    ``key`` returns the first reply and sends nothing (double click, resubmitted form).
    ``drafted_from`` names the library text the reply began as (``counter-speech:<key>``)."""
    if not text.strip():
        raise DeskError(_("Write the reply first."))
    if not key or len(key) > 64:
        raise DeskError(_("This reply form has expired: open the conversation again."))
    if private and conversation.kind == Conversation.Kind.PRIVATE:
        private = False  # already a private exchange
    if private and not private_reply_allowed(conversation):
        raise DeskError(
            _("%(platform)s does not allow answering in private here: answer in public.")
            % {"platform": platform_label(conversation.platform)}
        )
    with transaction.atomic():
        existing = Reply.objects.filter(organization=conversation.organization, key=key).first()
        if existing is not None:
            if existing.conversation_id != conversation.pk:
                raise DeskError(_("This reply form has expired: open the conversation again."))
            return existing
        target = _answered_item(conversation)
        reply = Reply.objects.create(
            organization=conversation.organization,
            conversation=conversation,
            item=target,
            key=key,
            text=text.strip(),
            private=private,
            author=actor.user if getattr(actor.user, "is_authenticated", False) else None,
            saved_reply=saved_reply,
            drafted_from=drafted_from[:100],
        )
        _changed(
            actor,
            conversation,
            "reply",
            {},
            {"reply": reply.pk, "private": private, "resolve": resolve},
            AuditAction.REPLY_SEND,
        )
        reply_id = reply.pk
        if _held_for_approval(reply, actor):
            reply.state = Reply.State.AWAITING_APPROVAL
            reply.save(update_fields=["state"])
        else:
            transaction.on_commit(lambda: request_send(reply_id, resolve=resolve))
        reply_recorded.send(sender=Reply, reply=reply, actor=actor)
    return reply


def _held_for_approval(reply: Reply, actor: Actor) -> bool:
    answers = reply_needs_approval.send(sender=Reply, reply=reply, actor=actor)
    # A receiver that takes the reply answers True; the others answer False or nothing.
    return any(bool(answer) for _receiver, answer in answers)


def release_approved_reply(actor: Actor, reply: Reply, text: str | None = None) -> Reply:
    """Its approvers approved the reply: it is sent now (once, by its key), with the text
    they approved (``text``, when they changed it)."""
    with transaction.atomic():
        locked = Reply.objects.select_for_update().get(pk=reply.pk)
        if locked.state != Reply.State.AWAITING_APPROVAL:
            return locked
        locked.state = Reply.State.SENDING
        if text is not None and text.strip():
            locked.text = text.strip()
        locked.save(update_fields=["state", "text"])
        _changed(
            actor,
            locked.conversation,
            "reply",
            {},
            {"reply": locked.pk, "approved": True},
            AuditAction.REPLY_SEND,
        )
        transaction.on_commit(lambda: request_send(locked.pk))
    return locked


def withdraw_reply(actor: Actor, reply: Reply, why: str) -> Reply:
    """Its approvers sent the reply back: it is never sent."""
    with transaction.atomic():
        locked = Reply.objects.select_for_update().get(pk=reply.pk)
        if locked.state != Reply.State.AWAITING_APPROVAL:
            return locked
        locked.state = Reply.State.WITHDRAWN
        locked.detail = why
        locked.save(update_fields=["state", "detail"])
    return locked


def _answered_item(conversation: Conversation) -> Item:
    """What a reply answers: the citizen's latest message in the conversation (in a thread,
    the latest item by someone else than the organization)."""
    own = own_author_ids(conversation.organization)
    latest = (
        conversation.items.exclude(author_id__in=own).order_by("-created_at", "-pk").first()
        if own
        else conversation.items.order_by("-created_at", "-pk").first()
    )
    return latest or conversation.root


def retry_reply(actor: Actor, reply: Reply) -> Reply:
    """Send again a reply the platform refused, or one a person checked was not posted."""
    with transaction.atomic():
        locked = Reply.objects.select_for_update().get(pk=reply.pk)
        if not locked.retryable:
            raise DeskError(
                _("Only a reply that failed, or whose outcome is unknown, is sent again.")
            )
        before = {"state": locked.state, "reason": locked.reason}
        locked.state = Reply.State.SENDING
        locked.calling_since = None
        locked.reason = ""
        locked.save(update_fields=["state", "calling_since", "reason"])
        record(
            actor,
            AuditAction.REPLY_RETRY,
            organization=locked.organization,
            obj=locked,
            before=before,
            after={"state": locked.state},
        )
        reply_id = locked.pk
        transaction.on_commit(lambda: request_send(reply_id))
    return locked


def confirm_reply_posted(actor: Actor, reply: Reply, url: str = "") -> Reply:
    """A person checked on the platform that a reply of unknown outcome was posted."""
    with transaction.atomic():
        locked = Reply.objects.select_for_update().get(pk=reply.pk)
        if locked.state != Reply.State.UNKNOWN:
            raise DeskError(_("Only a reply whose outcome is unknown can be confirmed."))
        before = {"state": locked.state}
        locked.state = Reply.State.SENT
        locked.url = url[:1000]
        locked.sent_at = timezone.now()
        locked.reason = "confirmed"
        locked.save(update_fields=["state", "url", "sent_at", "reason"])
        conversation = Conversation.objects.select_for_update().get(pk=locked.conversation_id)
        conversation.responded(locked.sent_at)
        conversation.save()
        record(
            actor,
            AuditAction.REPLY_CONFIRM,
            organization=locked.organization,
            obj=locked,
            before=before,
            after={"state": locked.state, "url": locked.url},
        )
        transaction.on_commit(lambda: reply_posted.send(sender=Reply, reply=locked))
    return locked


# --- lists ----------------------------------------------------------------------------------

#: The saved views of the list.
VIEWS = ("mine", "team", "unassigned", "open", "breaching", "snoozed", "all")


def view_filter(view: str, user: Any, now: datetime | None = None) -> Q:
    """The conversations of a saved view. "breaching": those whose running clock is past its
    deadline, read from the column kept beside it (:func:`sla.refresh_due`), an SQL filter."""
    now = now or timezone.now()
    # A message moderation hid or deleted is not one to answer: it leaves the lists to handle.
    live = Q(state__in=[State.NEW, State.OPEN, State.WAITING, State.ANSWERED]) & Q(
        root__visibility=Item.Visibility.VISIBLE
    )
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
    if view == "mine":
        return live & awake & Q(assignee=user)
    if view == "team":
        return live & awake & Q(team__members=user)
    if view == "unassigned":
        return live & awake & Q(assignee__isnull=True)
    if view == "snoozed":
        return live & Q(snoozed_until__gt=now)
    if view == "all":
        return Q()
    if view == "breaching":
        return live & awake & breached_filter(now)
    return live & awake  # open


# --- routing rules ---------------------------------------------------------------------------


def save_routing_rule(
    actor: Actor, organization: Organization, rule: RoutingRule, values: dict[str, Any]
) -> RoutingRule:
    """Check the rule as the router will read it (a query it cannot parse, a rule with no
    condition are refused in words), then store it."""
    from beffroi.analysis.requests.routing import RoutingRule as Checked
    from beffroi.analysis.watch_query import WatchQueryError

    team = values["team"]
    if team.organization_id != organization.pk:
        raise DeskError(_("This team belongs to another organization."))
    keywords = [word.strip() for word in values.get("keywords", []) if word.strip()]
    platforms = [name.strip() for name in values.get("platforms", []) if name.strip()]
    try:
        Checked(
            name=values["name"],
            service=team.slug,
            keywords=tuple(keywords),
            query=values.get("query", ""),
            platforms=tuple(platforms),
        )
    except WatchQueryError as exc:
        raise DeskError(_("The query cannot be read: %(error)s") % {"error": exc}) from exc
    except ValueError as exc:
        raise DeskError(
            _("Give keywords, a query or platforms: a rule needs a condition.")
        ) from exc
    before = snapshot(rule) if rule.pk else None
    rule.organization = organization
    rule.name, rule.team, rule.query = values["name"], team, values.get("query", "")
    rule.keywords, rule.platforms = keywords, platforms
    rule.then, rule.shadow = values["then"], bool(values.get("shadow"))
    rule.enabled = bool(values.get("enabled", True))
    if rule.pk is None:
        last = RoutingRule.objects.for_org(organization).order_by("-position").first()
        rule.position = (last.position + 1) if last else 0
    if "position" in values and values["position"] is not None:
        rule.position = int(values["position"])
    rule.save()
    record(
        actor,
        AuditAction.ROUTING_RULE_SAVE,
        organization=organization,
        obj=rule,
        before=before,
        after=snapshot(rule),
    )
    return rule


def delete_routing_rule(actor: Actor, rule: RoutingRule) -> None:
    before = snapshot(rule)
    organization = rule.organization
    rule.delete()
    record(actor, AuditAction.ROUTING_RULE_DELETE, organization=organization, before=before)


# --- teams and request systems -----------------------------------------------------------------


def save_team(actor: Actor, organization: Organization, form: Any) -> Team:
    """Store a team from its (valid) form; its short name is unique in the organization."""
    team = form.instance
    taken = (
        Team.objects.for_org(organization)
        .filter(slug=form.cleaned_data["slug"])
        .exclude(pk=team.pk)
        .exists()
    )
    if taken:
        raise DeskError(_("Another team has this short name."))
    before = snapshot(team) if team.pk else None
    team.organization = organization
    saved: Team = form.save()
    record(
        actor,
        AuditAction.TEAM_SAVE,
        organization=organization,
        obj=saved,
        before=before,
        after=snapshot(saved),
    )
    return saved


def save_request_system(
    actor: Actor,
    organization: Organization,
    form: Any,
    api_key: str = "",
    *,
    signing_secret: str = "",
    new_secret: bool = False,
) -> tuple[RequestSystem, str]:
    """Store a request system from its (valid) form; a new API key or signing secret is
    encrypted, an empty one keeps the current one (the snapshot leaves them out). A webhook
    system without a signing secret of its own (new, or another kind before) gets one made
    here, as does one whose person asked for a new one: returned with the system, to be shown
    once; "" when none was made."""
    system: RequestSystem = form.instance
    # The stored system, not the form's instance: validating the form already changed it.
    stored = RequestSystem.objects.filter(pk=system.pk).first() if system.pk else None
    before = snapshot(stored) if stored is not None else None
    saved: RequestSystem = form.save(commit=False)
    saved.organization = organization
    made = ""
    if saved.kind == RequestSystem.Kind.WEBHOOK:
        if signing_secret:
            saved.set_signing_secret(signing_secret)
        elif new_secret or not webhook.is_valid_secret(saved.signing_secret):
            made = webhook.new_secret()
            saved.set_signing_secret(made)
    elif api_key:
        saved.set_api_key(api_key)
    saved.save()
    after = snapshot(saved)
    if signing_secret or made:
        after["signing_secret"] = "given" if signing_secret else "made"  # never the secret
    record(
        actor,
        AuditAction.REQUEST_SYSTEM_SAVE,
        organization=organization,
        obj=saved,
        before=before,
        after=after,
    )
    return saved, made


def disable_request_system(actor: Actor, system: RequestSystem, why: str) -> bool:
    """Switch ``system`` off, saying ``why`` in the audit trail (its receiver said its address
    is gone): nothing is handed off or sent to it until a person enables it again on the
    request systems page. Returns whether it was on."""
    with transaction.atomic():
        locked = RequestSystem.objects.select_for_update().get(pk=system.pk)
        system.enabled = False
        if not locked.enabled:
            return False
        locked.enabled = False
        locked.save(update_fields=["enabled"])
        record(
            actor,
            AuditAction.REQUEST_SYSTEM_DISABLE,
            organization=locked.organization,
            obj=locked,
            before={"enabled": True},
            after={"enabled": False, "why": redact(why)[:500]},
        )
    return True
