from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "beffroi.moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from beffroi.items.signals import items_ingested
        from beffroi.moderation.queue import on_items_ingested

        items_ingested.connect(on_items_ingested, dispatch_uid="moderation.items_ingested")
