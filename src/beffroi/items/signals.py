"""What ingestion announces, for the domains above it to act on.

``items_ingested`` is sent once new items of an organization are committed (never for a
batch that added nothing): moderation judges them and the veille scans them, each by its
own receiver connected in its ``AppConfig.ready()``, so ingestion imports neither.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``organization`` (the Organization), ``source`` (the Source) and ``created``
#: (how many new items), after the transaction that stored them commits.
items_ingested = Signal()
