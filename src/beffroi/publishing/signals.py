"""What the publishing desk announces to the layers above it (it does not know them)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``post`` (a :class:`~beffroi.publishing.models.Post`) and ``variant`` (its
#: :class:`~beffroi.publishing.models.PostVariant` that the platform now has: *published*, or
#: *simulated* for a demo account), on commit: what partners' coordinated responses count
#: back when the post answers an item (``post.in_reply_to``).
post_published = Signal()
