"""What the answering desk announces to the layers above it (it does not know them)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``reply`` (a new :class:`~beffroi.conversations.models.Reply`) and ``actor``
#: before the reply is sent. A receiver that takes the reply for approval (the publishing
#: desk's workflows for replies) answers True: the reply then waits, *awaiting approval*,
#: until :func:`~beffroi.conversations.services.release_approved_reply` or
#: :func:`~beffroi.conversations.services.withdraw_reply`.
reply_needs_approval = Signal()
