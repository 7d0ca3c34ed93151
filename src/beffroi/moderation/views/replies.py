"""Answering an author in the organization's name: what the publisher role does (moderators
answer from a case or the item's moderation panel, with their other actions)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from beffroi.items.models import Item
from beffroi.moderation.forms import ReplyForm
from beffroi.moderation.services import ModerationError, reply_to_item
from beffroi.moderation.views.common import done_text, item_url, report_errors
from beffroi.organizations.access import org_view
from beffroi.organizations.context import OrgRequest
from beffroi.organizations.roles import Capability


@org_view(Capability.PUBLISH)
@require_POST
def item_reply(request: OrgRequest, pk: int) -> HttpResponse:
    """Publish a reply to the item on its platform, then back to the item."""
    item = request.org.get(Item, pk=pk)
    back = redirect(item_url(request, item.pk) + "#moderation")
    form = ReplyForm(request.POST)
    if not form.is_valid():
        report_errors(request, form)
        return back
    try:
        reply_to_item(request.org.actor, item, form.cleaned_data["reply_text"])
    except ModerationError as exc:
        messages.error(request, str(exc))
        return back
    messages.success(request, done_text("reply"))
    return back
