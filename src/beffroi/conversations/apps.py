from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "beffroi.conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from beffroi.conversations.queue import on_items_ingested
        from beffroi.items.signals import items_ingested

        items_ingested.connect(on_items_ingested, dispatch_uid="conversations.items_ingested")
