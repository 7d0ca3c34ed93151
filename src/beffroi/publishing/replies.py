"""Replies that wait for approval: the answering desk announces each reply before sending it
(:data:`beffroi.conversations.signals.reply_needs_approval`); where the organization's
workflows cover replies on that account, the reply becomes a post of kind *reply* in review,
and is sent by the desk once approved (withdrawn if sent back)."""

from __future__ import annotations

from typing import Any

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor
from beffroi.conversations import services as desk
from beffroi.conversations.models import Reply
from beffroi.publishing import approval
from beffroi.publishing.models import Post, PostVariant


def hold_reply_for_approval(sender: Any, reply: Reply, actor: Actor, **kwargs: Any) -> bool:
    """Receiver: take ``reply`` for approval when a workflow covers replies on its account."""
    from beffroi.publishing.services import record_event

    post = Post(
        organization=reply.organization,
        author=reply.author,
        title=reply.text[:200],
        kind=Post.Kind.REPLY,
        in_reply_to=reply.item,
        reply=reply,
    )
    # Which workflows apply depends on the post's accounts: asked of an unsaved post's
    # variant first, so that nothing is written when no workflow covers replies.
    if not approval.workflows_for_sources(
        reply.organization_id, {reply.item.source_id}, Post.Kind.REPLY
    ):
        return False
    post.save()
    PostVariant.objects.create(post=post, source=reply.item.source, text=reply.text)
    post.content_hash = approval.content_hash(post)
    post.state = Post.State.IN_REVIEW
    post.save()
    record_event(actor, AuditAction.POST_SUBMIT, post, reply=reply.pk)
    return True


def on_decided(actor: Actor, post: Post) -> None:
    """A reply's approval ended: sent by the desk once approved, withdrawn when sent back."""
    if post.kind != Post.Kind.REPLY or post.reply is None:
        return
    if post.state in (Post.State.APPROVED, Post.State.SCHEDULED):
        # What the approvers approved is what goes out (they may have edited the reply).
        approved = post.variants.values_list("text", flat=True).first()
        desk.release_approved_reply(actor, post.reply, approved)
    elif post.state == Post.State.DRAFT:
        desk.withdraw_reply(actor, post.reply, post.state_reason)
