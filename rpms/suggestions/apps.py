"""Residents' suggestions (B11(2), B22, P3(3)): sent on the public site, routed to the unit's planners,
answered in public, forwarded to departments, tracked with a code, flagged to the district when overdue,
grouped by planners into work proposals to the hiring entity (B11(2) 形成工作建议)."""
from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "rpms.suggestions"
    label = "suggestions"
    verbose_name = "意见建议"

    def ready(self):
        from rpms.core import pending

        from . import reminders
        from .pending import suggestion_pending

        pending.register(suggestion_pending)
        # The daily reminders of this app (rpms.notifications.reminders).
        reminders.register_providers()
