"""Residents' suggestions (B11(2), B22, P3(3)): sent on the public site, routed to the unit's planners,
answered in public, forwarded to departments, tracked with a code, flagged to the district when overdue,
grouped by planners into work proposals to the hiring entity (B11(2) 形成工作建议)."""
from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "rpms.suggestions"
    label = "suggestions"
    verbose_name = "意见建议"

    def ready(self):
        from rpms.portal.selectors import PENDING_PROVIDERS

        from .pending import suggestion_pending

        if suggestion_pending not in PENDING_PROVIDERS:
            PENDING_PROVIDERS.append(suggestion_pending)
