"""Core: the base model, the append-only audit trail (ActionLog), domain errors, request context,
and helpers shared by every bounded context (PDF, Excel). Cites no article itself; every audit row
cites the article its service applied."""
from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rpms.core"
    label = "core"
    verbose_name = "系统基础"

    def ready(self):
        from . import checks  # noqa: F401  (registers rpms.E010: production needs a shared cache)
