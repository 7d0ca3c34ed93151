from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    name = "beffroi.sources"
    verbose_name = _("Sources")
