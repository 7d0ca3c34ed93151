import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("items", "0007_item_waiting_index"),
        ("organizations", "0003_approver_role"),
        # 0009_narrative_clusters was written at the same time (issue 19, narratives): one
        # line of migrations rather than two leaves that migrate refuses.
        ("veille", "0009_narrative_clusters"),
    ]

    operations = [
        migrations.CreateModel(
            name="CoordinationPost",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("author_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("text_key", models.BigIntegerField(blank=True, null=True)),
                ("signature", models.BinaryField(blank=True, default=b"")),
                ("urls", models.JSONField(blank=True, default=list)),
                ("language", models.CharField(blank=True, default="", max_length=8)),
                ("stored_at", models.DateTimeField()),
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="coordination_post",
                        to="items.item",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="coordination_posts",
                        to="organizations.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["organization", "created_at"], name="coordination_post_time"
                    )
                ],
            },
        ),
    ]
