from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BriefsConfig(AppConfig):
    name = "beffroi.briefs"
    label = "briefs"
    verbose_name = _("Response briefs")

    def ready(self) -> None:
        # The desks below announce what reached a platform without knowing the briefs: an
        # answer to a post of a brief delivered to the organization is counted back.
        from beffroi.briefs import services
        from beffroi.conversations.signals import reply_posted
        from beffroi.publishing.signals import post_published

        reply_posted.connect(services.on_reply_posted, dispatch_uid="briefs.count_reply")
        post_published.connect(services.on_post_published, dispatch_uid="briefs.count_post")
