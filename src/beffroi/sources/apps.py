from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    name = "beffroi.sources"
    verbose_name = _("Sources")

    def ready(self) -> None:
        from django.conf import settings

        from beffroi import config
        from beffroi.connectors.http import RATE_GATE

        # Distributed mode: the Celery workers share the platforms' rate limits through the
        # broker's Redis (one worker's 429 closes the token for all).
        broker = str(getattr(settings, "BEFFROI_BROKER_URL", "") or "")
        RATE_GATE.share(broker if config.is_redis(broker) else None)
