from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VeilleConfig(AppConfig):
    name = "beffroi.veille"
    verbose_name = _("Veille")

    def ready(self) -> None:
        from beffroi.items.signals import items_ingested
        from beffroi.veille.queue import on_items_ingested

        items_ingested.connect(on_items_ingested, dispatch_uid="veille.items_ingested")
