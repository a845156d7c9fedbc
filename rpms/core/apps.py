"""Core: the base model, the append-only audit trail (ActionLog), domain errors, request context,
and helpers shared by every bounded context (PDF, Excel). Cites no article itself; every audit row
cites the article its service applied."""
from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rpms.core"
    label = "core"
    verbose_name = "系统基础"

    def ready(self):
        from django.db.models.signals import post_save

        from . import checks  # noqa: F401  (registers rpms.E010: production needs a shared cache)
        from .models import ActionLog

        post_save.connect(_action_log_saved, sender=ActionLog, dispatch_uid="core.audit_choices")


def _action_log_saved(sender, instance, created, **kwargs):
    if created:
        from .selectors import note_action_log_values

        note_action_log_values(instance)
