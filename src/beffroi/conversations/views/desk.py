"""The desk's pages: the list of conversations (saved views, filters, bulk changes) and one
conversation (its messages, replies and notes, who handles it, the reply box).

Each view parses, calls one service and renders; the rules are in ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from beffroi.accounts.views import safe_next
from beffroi.conversations import handoff, services, sla
from beffroi.conversations.display import reply_view
from beffroi.conversations.forms import (
    AssignForm,
    BulkForm,
    HandoffForm,
    LabelsForm,
    NoteForm,
    ReplyForm,
    SnoozeForm,
    StateForm,
    TeamForm,
)
from beffroi.conversations.models import (
    Conversation,
    Handoff,
    Presence,
    Reply,
    RequestSystem,
    SavedReply,
    Team,
)
from beffroi.core.drafts import Draft, resolve_draft
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.models import Organization
from beffroi.organizations.roles import Capability

PAGE_SIZE = 50


def _back(request: OrgRequest, conversation: Conversation) -> HttpResponse:
    return redirect(
        "conversations:detail", org_slug=request.org.organization.slug, pk=conversation.pk
    )


def _filtered(request: OrgRequest) -> tuple[Any, str]:
    view = request.GET.get("view", "open")
    if view not in services.VIEWS:
        view = "open"
    found = (
        request.org.scoped(Conversation)
        .filter(services.view_filter(view, request.user))
        .select_related("author", "assignee", "team", "root")
    )
    state = request.GET.get("state", "")
    if state in Conversation.State.values:
        found = found.filter(state=state)
    team = request.GET.get("team", "")
    if team.isdigit():
        found = found.filter(team_id=int(team))
    platform = request.GET.get("platform", "")
    if platform:
        found = found.filter(platform=platform)
    label = request.GET.get("label", "").strip()
    if label:
        found = found.filter(labels__icontains=label)
    query = request.GET.get("q", "").strip()
    if query:
        found = found.filter(
            Q(subject__icontains=query)
            | Q(author__handle__icontains=query)
            | Q(author__display_name__icontains=query)
        )
    # No DISTINCT: every filter reaches one row per conversation (a conversation has one
    # team, a member is in a team once), and DISTINCT would sort every row before the page.
    return found, view


@org_view(Capability.VIEW)
def conversation_list(request: OrgRequest) -> HttpResponse:
    found, view = _filtered(request)
    # "breaching" is a filter on the deadline column (services.view_filter); the badges shown
    # are read from each shown conversation's clock.
    page: Any = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    shown_conversations: list[Conversation] = list(page.object_list)
    page_clocks = sla.clocks(shown_conversations)
    organization = request.org.organization
    # The saved views' counts in one query.
    counts = request.org.scoped(Conversation).aggregate(
        **{
            # distinct: "my teams'" joins the team's members, one row per member.
            name: Count("pk", filter=services.view_filter(name, request.user), distinct=True)
            for name in ("mine", "team", "unassigned", "open")
        }
    )
    latest_replies = _latest_replies(request, shown_conversations)
    for conversation in shown_conversations:
        conversation.clock = page_clocks.get(conversation.pk)  # type: ignore[attr-defined]
        conversation.last_reply = latest_replies.get(conversation.pk)  # type: ignore[attr-defined]
    page.object_list = shown_conversations
    return render(
        request,
        "conversations/list.html",
        {
            "nav": "conversations",
            "page_obj": page,
            "view": view,
            "counts": counts,
            "states": Conversation.State.choices,
            "teams": Team.objects.for_org(organization),
            "can_answer": request.org.can(Capability.ANSWER),
            "bulk_form": BulkForm(organization=organization),
        },
    )


def _latest_replies(
    request: OrgRequest, conversations: list[Conversation]
) -> dict[int, dict[str, Any]]:
    """The last reply written in Beffroi to each conversation shown, with how its state is
    shown: a row says whether the reply sent from the list is sending, posted or failed."""
    newest = (  # ids grow with time: the highest is the newest
        request.org.scoped(Reply)
        .filter(conversation__in=[conversation.pk for conversation in conversations])
        .order_by()
        .values("conversation")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    by_pk = {conversation.pk: conversation for conversation in conversations}
    latest = {}
    for reply in request.org.scoped(Reply).filter(pk__in=list(newest)):
        reply.conversation = by_pk[reply.conversation_id]  # the row's, already read
        latest[reply.conversation_id] = {"reply": reply, "view": reply_view(reply)}
    return latest


@org_view(Capability.ANSWER)
@require_POST
def conversation_bulk(request: OrgRequest) -> HttpResponse:
    organization = request.org.organization
    form = BulkForm(request.POST, organization=organization)
    target = reverse("conversations:list", kwargs={"org_slug": organization.slug})
    ids = [int(part) for part in request.POST.getlist("conversation") if part.isdigit()]
    if not form.is_valid() or not ids:
        messages.error(request, _("Choose conversations and an action."))
        return redirect(target)
    action = form.cleaned_data["action"]
    value = {
        "assign": form.cleaned_data.get("assignee"),
        "team": form.cleaned_data.get("team"),
        "label": form.cleaned_data.get("label", "").strip(),
        "close": None,
    }[action]
    if action == "label" and not value:
        messages.error(request, _("Write the label to add."))
        return redirect(target)
    chosen = request.org.scoped(Conversation).filter(pk__in=ids)
    try:
        changed = services.bulk(request.org.actor, chosen, action, value)
    except services.DeskError as exc:
        messages.error(request, str(exc))
        return redirect(target)
    messages.success(
        request,
        ngettext("%(count)d conversation changed.", "%(count)d conversations changed.", changed)
        % {"count": changed},
    )
    return redirect(target)


def _timeline(conversation: Conversation) -> list[dict[str, Any]]:
    """The messages, the replies sent from Beffroi and the notes, in time order."""
    entries: list[dict[str, Any]] = []
    own = services.own_author_ids(conversation.organization)
    replies = list(conversation.replies.select_related("author", "conversation"))
    # A reply sent from here comes back with the next sync: shown once, as the reply.
    sent_ids = {reply.platform_id for reply in replies if reply.platform_id}
    for item in conversation.items.select_related("author").order_by("created_at", "pk"):
        if item.author_id in own and item.platform_id in sent_ids:
            continue
        entries.append(
            {"kind": "item", "at": item.created_at, "item": item, "own": item.author_id in own}
        )
    for reply in replies:
        entries.append(
            {"kind": "reply", "at": reply.created_at, "reply": reply, "view": reply_view(reply)}
        )
    for note in conversation.notes.select_related("author"):
        entries.append({"kind": "note", "at": note.created_at, "note": note})
    return sorted(entries, key=lambda entry: entry["at"])


def _reply_form(
    conversation: Conversation, auto_id: str = "id_%s", draft: Draft | None = None
) -> ReplyForm:
    """A reply box's form: a new key (one per draft: sending it twice sends once), the
    private choice only where the platform allows it, and the text it opens with when the
    address names one (a counter-speech entry chosen on a case: edited before sending)."""
    initial: dict[str, Any] = {"key": services.new_reply_key()}
    if draft is not None:
        initial.update(text=draft.text, drafted_from=draft.ref)
    form = ReplyForm(initial=initial, auto_id=auto_id)
    if not services.private_reply_allowed(conversation):
        del form.fields["private"]
    return form


def _saved_replies(
    organization: Organization, conversation: Conversation
) -> list[tuple[SavedReply, str, list[str]]]:
    """The saved replies, each with its text filled for this conversation and the variables
    left for the person to write."""
    targets = sla.targets_of(organization)
    return [
        (
            saved_reply,
            *services.render_saved_reply(
                saved_reply,
                conversation,
                delay=sla.resolution_delay(targets, saved_reply.language),
            ),
        )
        for saved_reply in SavedReply.objects.for_org(organization).select_related("team")
    ]


def _requested_draft(request: OrgRequest) -> Draft | None:
    """The text the reply box opens with (``?draft=<kind>:<key>&lang=xx``), if the
    organization may read it."""
    ref = request.GET.get("draft", "")
    if not ref:
        return None
    return resolve_draft(request.org.organization, ref, request.GET.get("lang", ""))


@org_view(Capability.VIEW)
def conversation_detail(request: OrgRequest, pk: int) -> HttpResponse:
    org = request.org
    conversation = org.get(Conversation, pk=pk)
    organization = org.organization
    can_answer = org.can(Capability.ANSWER)
    draft = _requested_draft(request)
    # Reading writes nothing: the page's heartbeat (a POST) says who is on it.
    return render(
        request,
        "conversations/detail.html",
        {
            "nav": "conversations",
            "conversation": conversation,
            "timeline": _timeline(conversation),
            "events": conversation.events.select_related("actor"),
            "others": services.others_present(conversation, request.user),
            "clock": sla.clock(conversation),
            "can_answer": can_answer,
            "assign_form": AssignForm(
                organization=organization, initial={"assignee": conversation.assignee_id}
            ),
            "team_form": TeamForm(
                organization=organization, initial={"team": conversation.team_id}
            ),
            "states": [
                (value, label)
                for value, label in Conversation.State.choices
                if value in services.TRANSITIONS[conversation.state]
            ],
            "labels_form": LabelsForm(initial={"labels": ", ".join(conversation.labels)}),
            "snooze_form": SnoozeForm(),
            "note_form": NoteForm(),
            "reply_form": _reply_form(conversation, draft=draft),
            # The message a reply answers (the citizen's latest): what suggestions are for.
            "answered": services._answered_item(conversation) if can_answer else None,
            "draft": draft,
            "handoffs": conversation.handoffs.select_related("system"),
            "handoff_form": HandoffForm(
                organization=organization,
                initial={
                    "service_code": conversation.team.service_code if conversation.team else ""
                },
            )
            if RequestSystem.objects.for_org(organization).filter(enabled=True).exists()
            else None,
            "saved_replies": _saved_replies(organization, conversation),
        },
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_presence(request: OrgRequest, pk: int) -> HttpResponse:
    """The reply box's heartbeat: this person is looking or writing; answers who else is."""
    conversation = request.org.get(Conversation, pk=pk)
    activity = request.POST.get("activity", Presence.Activity.VIEWING)
    if activity not in Presence.Activity.values:
        return HttpResponseBadRequest("unknown activity")
    services.touch_presence(conversation, request.user, activity)
    return render(
        request,
        "conversations/_presence.html",
        {"others": services.others_present(conversation, request.user)},
    )


def _act(
    request: OrgRequest,
    conversation: Conversation,
    done: str,
    call: Any,
    target: str | None = None,
) -> HttpResponse:
    try:
        call()
    except services.DeskError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(target) if target else _back(request, conversation)


@org_view(Capability.ANSWER)
@require_POST
def conversation_assign(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = AssignForm(request.POST, organization=request.org.organization)
    if not form.is_valid():
        messages.error(request, _("Choose a member of the organization."))
        return _back(request, conversation)
    user = form.cleaned_data["assignee"]
    done = _("Assigned to %(name)s.") % {"name": user.get_username()} if user else _("Unassigned.")
    return _act(
        request, conversation, done, lambda: services.assign(request.org.actor, conversation, user)
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_team(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = TeamForm(request.POST, organization=request.org.organization)
    if not form.is_valid():
        messages.error(request, _("Choose one of the organization's teams."))
        return _back(request, conversation)
    team = form.cleaned_data["team"]
    done = _("Given to %(team)s.") % {"team": team.name} if team else _("No team any more.")
    return _act(
        request,
        conversation,
        done,
        lambda: services.set_team(request.org.actor, conversation, team),
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_state(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = StateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown state."))
        return _back(request, conversation)
    state = form.cleaned_data["state"]
    done = _("Now: %(state)s.") % {"state": Conversation.State(state).label}
    return _act(
        request,
        conversation,
        done,
        lambda: services.set_state(request.org.actor, conversation, state),
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_labels(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = LabelsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Labels are words separated by commas."))
        return _back(request, conversation)
    labels = form.cleaned_data["labels"]
    return _act(
        request,
        conversation,
        _("Labels saved."),
        lambda: services.set_labels(request.org.actor, conversation, labels),
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_snooze(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a date and a time."))
        return _back(request, conversation)
    until = form.cleaned_data["until"]
    done = (
        _("Snoozed until %(when)s.")
        % {"when": timezone.localtime(until).strftime("%d/%m/%Y %H:%M")}
        if until
        else _("Woken up.")
    )
    return _act(
        request, conversation, done, lambda: services.snooze(request.org.actor, conversation, until)
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_note(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the note first."))
        return _back(request, conversation)
    text = form.cleaned_data["text"]
    return _act(
        request,
        conversation,
        _("Note added."),
        lambda: services.add_note(request.org.actor, conversation, text),
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_reply(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    page = reverse(
        "conversations:detail",
        kwargs={"org_slug": request.org.organization.slug, "pk": conversation.pk},
    )
    # Back to where the reply was written: the conversation, or the list (a same-site ``next``).
    target = safe_next(request, default=page)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the reply first."))
        return redirect(target)
    data = form.cleaned_data
    saved = (
        request.org.scoped(SavedReply).filter(pk=data["saved_reply"]).first()
        if data.get("saved_reply")
        else None
    )
    # What happened: the reply is on its way, not posted (the thread, or the list's row, says
    # when it is).
    done = (
        _("Reply recorded: it is being sent, its state shows in the conversation.")
        if target == page
        else _("Reply to @%(handle)s recorded: it is being sent, its row shows its state.")
        % {"handle": conversation.author.handle}
    )
    return _act(
        request,
        conversation,
        done,
        lambda: services.send_reply(
            request.org.actor,
            conversation,
            data["text"],
            key=data["key"],
            private=data["private"],
            saved_reply=saved,
            resolve=data["resolve"],
            drafted_from=_drafted_from(request, data.get("drafted_from") or ""),
        ),
        target,
    )


@org_view(Capability.ANSWER)
@require_GET
def conversation_reply_box(request: OrgRequest, pk: int) -> HttpResponse:
    """The reply box a row of the list opens: an HTML fragment the list's script fetches and
    puts under the row. It posts to :func:`conversation_reply`, which comes back to the list
    (``next``, kept only when it stays on this site) at the conversation's row."""
    conversation = request.org.get(
        Conversation.objects.select_related("author", "root", "team"), pk=pk
    )
    organization = request.org.organization
    back = safe_next(
        request, default=reverse("conversations:list", kwargs={"org_slug": organization.slug})
    )
    return render(
        request,
        "conversations/_reply_box.html",
        {
            "conversation": conversation,
            # The message the reply answers (the citizen's latest), quoted above the box.
            "answered": services._answered_item(conversation),
            "reply_form": _reply_form(conversation, auto_id=f"reply-{conversation.pk}-%s"),
            "saved_replies": _saved_replies(organization, conversation),
            "saved_select_id": f"saved-reply-{conversation.pk}",
            "next": f"{back.split('#')[0]}#conversation-{conversation.pk}",
            # Who else is on it ("claire is replying"); the box's heartbeat keeps it current.
            "others": services.others_present(conversation, request.user),
        },
    )


def _drafted_from(request: OrgRequest, ref: str) -> str:
    """The reply's starting text as posted, kept only when it names one the organization
    may read (a form is not trusted to say so)."""
    return ref if ref and resolve_draft(request.org.organization, ref) is not None else ""


@org_view(Capability.ANSWER)
@require_POST
def reply_retry(request: OrgRequest, pk: int) -> HttpResponse:
    reply = request.org.get(Reply, pk=pk)
    return _act(
        request,
        reply.conversation,
        _("The reply is being sent again."),
        lambda: services.retry_reply(request.org.actor, reply),
    )


@org_view(Capability.ANSWER)
@require_POST
def reply_confirm(request: OrgRequest, pk: int) -> HttpResponse:
    reply = request.org.get(Reply, pk=pk)
    url = request.POST.get("url", "").strip()
    if url and not url.startswith(("https://", "http://")):
        messages.error(request, _("The link must start with https://."))
        return _back(request, reply.conversation)
    return _act(
        request,
        reply.conversation,
        _("Recorded as posted."),
        lambda: services.confirm_reply_posted(request.org.actor, reply, url),
    )


@org_view(Capability.ANSWER)
@require_POST
def conversation_handoff(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    form = HandoffForm(request.POST, organization=request.org.organization)
    if not form.is_valid():
        messages.error(request, _("Choose one of the organization's request systems."))
        return _back(request, conversation)
    data = form.cleaned_data
    try:
        handoff.hand_off(
            request.org.actor,
            conversation,
            data["system"],
            service_code=data["service_code"],
            address=data["address"],
            description=data["description"],
        )
    except handoff.HandoffError as exc:
        messages.error(request, str(exc))
    else:
        # Recorded and on its way: its state (sent, failed) shows in the conversation.
        messages.success(request, _("Hand-off recorded: it is being sent to the request system."))
    return _back(request, conversation)


@org_view(Capability.ANSWER)
@require_POST
def handoff_retry(request: OrgRequest, pk: int) -> HttpResponse:
    found = request.org.get(Handoff, pk=pk)
    try:
        handoff.retry(request.org.actor, found)
    except handoff.HandoffError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The hand-off is being sent again."))
    return _back(request, found.conversation)


@org_view(Capability.ANSWER)
@require_POST
def conversation_request(request: OrgRequest, pk: int) -> HttpResponse:
    conversation = request.org.get(Conversation, pk=pk)
    is_request = request.POST.get("is_request") == "yes"
    done = _("Marked as a request.") if is_request else _("Marked as not a request.")
    return _act(
        request,
        conversation,
        done,
        lambda: services.mark_request(request.org.actor, conversation, is_request),
    )
