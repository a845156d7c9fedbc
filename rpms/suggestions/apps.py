"""Residents' suggestions (B11(2), B22, P3(3)): sent on the public site, routed to the unit's planners,
answered in public, tracked with a code."""
from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "rpms.suggestions"
    label = "suggestions"
    verbose_name = "意见建议"
