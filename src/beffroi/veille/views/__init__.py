"""Veille pages of an organization, under ``/o/<slug>/veille/``, one module per part.

Reading the dashboard and the alerts needs the ``view`` capability (an elected official
follows them); reading narratives, claims, campaigns and impersonators needs ``read_veille``
(moderators meet them in their work); watches, identities and every change need ``analyze``;
alert channels need ``manage``. Every list has its CSV export. Every change is one call to
``beffroi.veille.services``.
"""
