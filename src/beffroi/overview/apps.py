from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverviewConfig(AppConfig):
    """What an organization sees first, read across the domains (items, sources, moderation).

    It sits above them so that none of them imports another to draw a summary.
    """

    name = "beffroi.overview"
    verbose_name = _("Overview")
