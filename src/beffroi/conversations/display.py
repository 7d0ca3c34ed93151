"""What a reply's state says on screen: a badge and a sentence in the reader's language, the
platform's own words kept apart — never "sent" when the platform did not post it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from beffroi.conversations.models import Reply
from beffroi.sources import failures
from beffroi.sources.forms import platform_label


@dataclass(frozen=True)
class ReplyView:
    badge: str
    sentence: str
    detail: str
    #: The account's access was refused: reconnecting it is the way forward.
    reconnect: bool


def reason_sentence(reason: str) -> str:
    """Why a platform did not act, in words (a reply's or a post's failure)."""
    sentences = {
        failures.REASON_CREDENTIALS: _(
            "the account's access was refused or has expired: reconnect the account, then "
            "send it again"
        ),
        failures.REASON_NOT_FOUND: _("the message answered no longer exists on the platform"),
        failures.REASON_REFUSED: _("the platform refused it"),
        failures.REASON_ERROR: _("the platform answered with an error"),
        failures.REASON_UNSUPPORTED: _("this platform does not allow this kind of reply"),
        failures.REASON_UPLOAD: _(
            "the conversation was imported from a file: there is no account to answer from"
        ),
        failures.REASON_RATE_LIMITED: _("the platform asked to wait (rate limit)"),
        failures.REASON_OUTAGE: _("the platform did not answer"),
    }
    return sentences.get(reason, _("the platform answered with an error"))


def reply_view(reply: Reply) -> ReplyView:
    """How the reply's state is shown."""
    platform = platform_label(reply.conversation.platform)
    if reply.state == Reply.State.SENT:
        return ReplyView(
            "badge-ok", _("Posted on %(platform)s.") % {"platform": platform}, "", False
        )
    if reply.state == Reply.State.SIMULATED:
        return ReplyView(
            "badge-info",
            _("Simulated: a demo source, nothing was sent to a platform."),
            "",
            False,
        )
    if reply.state == Reply.State.FAILED:
        return ReplyView(
            "badge-error",
            _("Not posted: %(reason)s.") % {"reason": reason_sentence(reply.reason)},
            reply.detail,
            reply.reason == failures.REASON_CREDENTIALS,
        )
    if reply.state == Reply.State.AWAITING_APPROVAL:
        return ReplyView(
            "badge-info",
            _("Waiting for approval: it is sent once the approvers agree."),
            "",
            False,
        )
    if reply.state == Reply.State.WITHDRAWN:
        return ReplyView(
            "badge-neutral",
            _("Not approved: it was not sent."),
            reply.detail,
            False,
        )
    if reply.state == Reply.State.UNKNOWN:
        if reply.reason == failures.REASON_UNCONFIRMED:
            sentence = _(
                "%(platform)s did not confirm the reply (its answer was lost, or it failed "
                "while answering): it may have been posted. Check on %(platform)s, then say "
                "whether to send it again."
            )
        else:
            sentence = _(
                "Sending was interrupted while the platform was being asked: it may have been "
                "posted. Check on %(platform)s, then say whether to send it again."
            )
        return ReplyView(
            "badge-warn",
            sentence % {"platform": platform},
            reply.detail,
            False,
        )
    waiting = (
        _("Sending, waiting for %(platform)s: %(reason)s.")
        % {"platform": platform, "reason": reason_sentence(reply.reason)}
        if reply.reason
        else _("Sending to %(platform)s…") % {"platform": platform}
    )
    return ReplyView("badge-warn", waiting, reply.detail, False)
