from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VeilleConfig(AppConfig):
    name = "beffroi.veille"
    verbose_name = _("Veille")
