from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CharterConfig(AppConfig):
    name = "beffroi.charter"
    verbose_name = _("Usage charter")

    def ready(self) -> None:
        from beffroi.charter.services import start_with_default_charter
        from beffroi.organizations.signals import organization_created

        organization_created.connect(start_with_default_charter, dispatch_uid="charter.default")
