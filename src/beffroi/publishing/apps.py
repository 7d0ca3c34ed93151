from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "beffroi.publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from beffroi.conversations.signals import reply_needs_approval
        from beffroi.publishing.replies import hold_reply_for_approval

        reply_needs_approval.connect(
            hold_reply_for_approval, dispatch_uid="publishing.hold_reply_for_approval"
        )
