"""Changes to the veille's objects, whatever face asked; each writes an audit event.

(Watches first; the other veille writes still live in its views — issue 12.)
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from beffroi.audit.services import Actor, record, snapshot
from beffroi.organizations.models import Organization
from beffroi.veille import watching
from beffroi.veille.forms import WatchForm
from beffroi.veille.models import Watch


def watch_form(
    organization: Organization, actor: Actor, data: Any = None, watch: Watch | None = None
) -> WatchForm:
    """The form a watch is checked with, by the web page and the API alike; a new watch is
    created by ``actor``'s user."""
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return WatchForm(data, instance=watch or Watch(organization=organization, created_by=user))


def save_watch(actor: Actor, form: WatchForm) -> Watch | None:
    """Save a watch from its form, once every rule holds (a valid query, a sensitivity from 0
    to 1, a name of its own in the organization); it then looks at every item at once.
    None when a rule does not hold: the reasons are on the form."""
    if not form.is_valid():
        return None
    watch: Watch = form.instance
    taken = Watch.objects.filter(organization=watch.organization, name=form.cleaned_data["name"])
    if taken.exclude(pk=watch.pk).exists():
        form.add_error("name", _("A watch of this name exists."))
        return None
    before = snapshot(Watch.objects.get(pk=watch.pk)) if watch.pk else None
    with transaction.atomic():
        saved = form.save()
        record(
            actor,
            "watch.save",
            organization=saved.organization,
            obj=saved,
            before=before,
            after=snapshot(saved),
        )
    watching.watch_saved(saved)
    return saved
