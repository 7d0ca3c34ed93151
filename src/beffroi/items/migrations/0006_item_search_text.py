"""The search's stored words (``Item.search_text``), written for the items already there.

The search reads only this column (``beffroi.items.search``): an item left without it would
never be found. The rows are written by batches of primary keys, so that a large inbox does
not sit in memory at once.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from beffroi.items.search import backfill_search_text


def write_search_text(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    backfill_search_text(apps.get_model("items", "Item"))


class Migration(migrations.Migration):

    dependencies = [
        ("items", "0005_item_state_decided"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(write_search_text, migrations.RunPython.noop),
    ]
