"""The suggested reply of a checked claim is now a counter-speech entry linked to it: moved
there by ``counterspeech.0003_rebuttals``, which must run first (the reverse of that one puts
the text back into this column, re-added empty by this one's reverse)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("veille", "0006_claimmatch_evidence"),
        ("counterspeech", "0003_rebuttals"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="checkedclaim",
            name="reply",
        ),
    ]
