from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterSpeechConfig(AppConfig):
    name = "beffroi.counterspeech"
    label = "counterspeech"
    verbose_name = _("Counter-speech")

    def ready(self) -> None:
        # The desks below show the library without knowing it (core.panels, core.drafts),
        # and say when a reply that began as an entry is recorded.
        from beffroi.conversations.signals import reply_recorded
        from beffroi.core.drafts import register_draft_source
        from beffroi.core.panels import register_item_panel
        from beffroi.counterspeech import panels

        register_item_panel("counter-speech", panels.suggestions_panel)
        register_draft_source(panels.DRAFT_KIND, panels.draft_of)
        reply_recorded.connect(panels.count_use, dispatch_uid="counterspeech.count_use")
