from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "beffroi.conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from beffroi.conversations import sla
        from beffroi.conversations.models import Conversation, ResponseTargets, Team
        from beffroi.conversations.queue import on_items_ingested
        from beffroi.items.signals import items_ingested

        items_ingested.connect(on_items_ingested, dispatch_uid="conversations.items_ingested")
        # The deadline columns follow what the clock reads, whoever saves (sla.refresh_due).
        pre_save.connect(sla.keep_due, sender=Conversation, dispatch_uid="conversations.due")
        for signal in (post_save, post_delete):
            signal.connect(
                sla.on_targets_changed, sender=ResponseTargets, dispatch_uid="conversations.due"
            )
        pre_save.connect(sla.note_team_calendar, sender=Team, dispatch_uid="conversations.due")
        post_save.connect(sla.on_team_saved, sender=Team, dispatch_uid="conversations.due")
        post_delete.connect(sla.on_team_deleted, sender=Team, dispatch_uid="conversations.due")
