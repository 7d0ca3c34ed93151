"""What the kernel announces about organizations, for the domains above it to act on."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``organization`` and ``actor`` inside the transaction that creates an
#: organization: a receiver that fails undoes the creation (the charter's default version
#: is made this way, so every organization judges what it ingests from the first sync).
organization_created = Signal()
