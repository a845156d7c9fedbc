"""Dispatch: district requests for planners (P6(1)), city-wide matching (P6(2)) and its proposals."""
from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "rpms.dispatch"
    label = "dispatch"
    verbose_name = "统筹选派"
