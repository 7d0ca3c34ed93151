from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ItemsConfig(AppConfig):
    name = "beffroi.items"
    verbose_name = _("Items")

    def ready(self) -> None:
        from beffroi.items.search import connect_signals

        connect_signals()
