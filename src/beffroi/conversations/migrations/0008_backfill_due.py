"""Fill the deadline columns (``due_at``, ``due_soon_at``) of the live conversations that
existed before them.

The deadline is business-time arithmetic (opening hours, holidays, pauses) that only the
application's ``sla`` module does: it is called on plain copies of the historical rows, in a
guard. Should it fail (the module changed beyond what these rows hold), the columns stay null
and the periodic response-time watch (``conversations.sla_watch``) fills them in batches."""

import logging

from django.db import migrations, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

log = logging.getLogger(__name__)

BATCH = 500
CLOCK_FIELDS = (
    "organization_id",
    "team_id",
    "state",
    "opened_at",
    "last_citizen_at",
    "first_response_at",
    "last_response_at",
    "pauses",
)
TARGET_FIELDS = (
    "organization_id",
    "first_response_hours",
    "next_response_hours",
    "resolution_hours",
    "due_soon_share",
    "timezone",
    "subdivision",
    "hours",
    "updated_at",
)


def backfill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Conversation = apps.get_model("conversations", "Conversation")
    Team = apps.get_model("conversations", "Team")
    ResponseTargets = apps.get_model("conversations", "ResponseTargets")
    live = (
        Conversation.objects.exclude(state__in=["resolved", "closed"])
        .filter(due_at=None)
        .order_by("pk")
    )
    if not live.exists():
        return
    try:
        # Imported here, on purpose: see the module's docstring.
        from beffroi.conversations import models as current
        from beffroi.conversations import sla

        always_open = set(Team.objects.filter(always_open=True).values_list("pk", flat=True))
        targets = {
            row["organization_id"]: current.ResponseTargets(**row)
            for row in ResponseTargets.objects.values(*TARGET_FIELDS)
        }
        last = 0
        # A savepoint: a failure leaves no half-written batch, and the migration goes on.
        with transaction.atomic(using=schema_editor.connection.alias):
            while True:
                rows = list(live.filter(pk__gt=last).values("pk", *CLOCK_FIELDS)[:BATCH])
                if not rows:
                    return
                last = rows[-1]["pk"]
                filled = []
                for row in rows:
                    team_id = row.pop("team_id")
                    copy = current.Conversation(**row)
                    if team_id is not None:
                        copy.team = current.Team(pk=team_id, always_open=team_id in always_open)
                    organization_id = row["organization_id"]
                    found = targets.get(organization_id) or current.ResponseTargets(
                        organization_id=organization_id
                    )
                    due_at, due_soon_at = sla.due_times(copy, found)
                    if due_at is not None:
                        filled.append(
                            Conversation(pk=row["pk"], due_at=due_at, due_soon_at=due_soon_at)
                        )
                Conversation.objects.bulk_update(filled, ["due_at", "due_soon_at"])
    except Exception:  # the periodic watch fills what is left
        log.warning("Deadline columns not filled; the response-time watch will.", exc_info=True)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0007_due_and_webhooks"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
