from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterSpeechConfig(AppConfig):
    name = "beffroi.counterspeech"
    label = "counterspeech"
    verbose_name = _("Counter-speech")
