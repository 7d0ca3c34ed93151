"""What the answering desk announces to the layers above it (it does not know them)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``reply`` (a new :class:`~beffroi.conversations.models.Reply`) and ``actor``
#: before the reply is sent. A receiver that takes the reply for approval (the publishing
#: desk's workflows for replies) answers True: the reply then waits, *awaiting approval*,
#: until :func:`~beffroi.conversations.services.release_approved_reply` or
#: :func:`~beffroi.conversations.services.withdraw_reply`.
reply_needs_approval = Signal()

#: Sent with ``reply`` (a new :class:`~beffroi.conversations.models.Reply`, its
#: ``drafted_from`` saying which library text it began as, if any) and ``actor`` once it
#: is recorded, whether it is sent now or waits for approval: what the counter-speech
#: library counts as a use.
reply_recorded = Signal()

#: Sent with ``reply`` once the platform has it (*sent*, or *simulated* for a demo
#: source), on commit: what partners' coordinated responses count back.
reply_posted = Signal()
