"""The table of the shared cache (login throttling) when there is no Redis.

Made by Django's own ``createcachetable`` code, whatever ``CACHES`` says at the time, so
that every ``migrate`` (``beffroi init``, ``serve``, ``demo``) leaves it in place and a
deployment that drops Redis later finds it there.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from beffroi.config import CACHE_TABLE


def create_cache_table(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


def drop_cache_table(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, drop_cache_table),
    ]
