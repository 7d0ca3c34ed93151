from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "beffroi.jobs"
    verbose_name = _("Jobs")

    def ready(self) -> None:
        # Every app's tasks are registered before any job runs or is asked for.
        from beffroi.jobs.engine import load_tasks

        load_tasks()
